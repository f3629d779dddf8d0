-- A job's file results as read with the job (job status and the job list): an array of
-- this composite, sent in binary, instead of JSON built row by row (json_build_object
-- looked up each value's output function per file and doubled the cost of a job-status
-- statement).
CREATE TYPE job_file_result AS (
    kind text,
    path text,
    log text,
    status text,
    cause text,
    total_lines int8,
    failed_lines int8,
    successful_lines int8
);
