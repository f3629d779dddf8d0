# Multi-stage build: SQL is checked against the committed .sqlx/ data, so no database is
# needed at build time.
FROM rust:1.95-bookworm AS build
WORKDIR /src
ENV SQLX_OFFLINE=true
COPY Cargo.toml Cargo.lock ./
COPY .cargo .cargo
COPY .sqlx .sqlx
COPY src src
COPY migrations migrations
COPY config config
RUN cargo build --release --locked

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /app jobcenter
WORKDIR /app
COPY --from=build /src/target/release/jobcenter /usr/local/bin/jobcenter
COPY config config
USER jobcenter
ENV JOBCENTER__SERVER__HOST=0.0.0.0 JOBCENTER__SERVER__PORT=8080 JOBCENTER__LOG__FORMAT=json
EXPOSE 8080 9090
ENTRYPOINT ["jobcenter"]
CMD ["serve"]
