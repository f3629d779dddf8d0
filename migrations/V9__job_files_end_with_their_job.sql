-- A job's file entries end when the job does, whatever ended it (the engine's failure, a
-- lease that expired with no attempts left, a cancel, a producer's complete, a restart or
-- delete that superseded it): an entry still pending or running becomes failed, keeping the
-- counts it reached, with a cause (its own if it had one).
CREATE FUNCTION job_files_end_with_job() RETURNS trigger
    LANGUAGE plpgsql AS $$
BEGIN
    UPDATE job_files
       SET status = 'failed',
           cause = coalesce(cause, CASE
               WHEN NEW.status = 'failed'
                   THEN 'the job failed: ' || coalesce(NEW.fail_reason, 'no reason given')
               ELSE 'the job ended before this file was finished' END)
     WHERE job_id = NEW.id AND status IN ('pending', 'running');
    RETURN NULL;
END
$$;

CREATE TRIGGER jobs_end_their_files
    AFTER UPDATE OF status ON jobs
    FOR EACH ROW
    WHEN (OLD.status IN ('pending', 'running')
          AND NEW.status IN ('success', 'partiallyFailed', 'failed'))
    EXECUTE FUNCTION job_files_end_with_job();
