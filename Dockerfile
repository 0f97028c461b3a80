# A small image with the built harness, for labs that run it on a bench PC or in a cluster
# (examples/ci/kubernetes-indexed-job.yml):
#   docker build -t ocpp-harness .
#   docker run --rm -v "$PWD/reports:/work/reports" ocpp-harness                  # the main job
#   docker run --rm --network host -v "$PWD:/work" ocpp-harness run --dut dut.toml --listen 0.0.0.0:9000
# The guest suites are compiled into the binary, so the runtime image needs nothing else.

FROM rust:1.95-bookworm AS build
RUN rustup target add wasm32-wasip2
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p ocpp-harness --bin ocpp-harness \
 && strip target/release/ocpp-harness

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --create-home --uid 10001 lab
COPY --from=build /src/target/release/ocpp-harness /usr/local/bin/ocpp-harness
USER lab
WORKDIR /work
ENTRYPOINT ["ocpp-harness"]
CMD ["run", "--reports", "/work/reports"]
