# syntax=docker/dockerfile:1
# Prescient operator image: build on Debian bookworm, ship only the shared libraries the binaries link.
# hack/check-packaging.sh checks (without an engine) that every COPY source exists and that the
# runtime packages below cover every library `ldd` reports for the built binaries.
#
# The in-guest agent (prescient-agent) is not in this image: it runs inside the KubeVirt VMs, which
# get it as a Debian package built by hack/build-agent-deb.sh (tests/packaging/agent_deb.sh checks it).
# A .deb rather than a static binary: Debian ships no static archives of cpprestsdk or prometheus-cpp,
# and a static glibc binary loses NSS (the agent looks up --run-as-user); the package's Depends are
# the Debian packages owning the libraries `ldd` lists, so apt installs them on a bookworm guest.

ARG DEBIAN_IMAGE=debian:bookworm-slim

# ---- builder ---------------------------------------------------------------------------------------
FROM debian:bookworm AS builder
WORKDIR /src
COPY hack/install-deps.sh hack/install-deps.sh
RUN bash hack/install-deps.sh && rm -rf /var/lib/apt/lists/*
COPY CMakeLists.txt ./
COPY src src
COPY operator operator
COPY crds crds
# tests/: some stage CMakeLists name benchmark sources there; only the two binaries are built.
COPY tests tests
# (-Werror is CI's job on the RelWithDebInfo build; a release image should not fail on a new compiler warning.)
RUN cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build --target prescient-operator prescient -j"$(nproc)" \
 && strip build/bin/prescient-operator build/bin/prescient

# ---- runtime ---------------------------------------------------------------------------------------
FROM ${DEBIAN_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
# Set at build time (--build-arg SOURCE_URL=...); the repository has no public URL or LICENSE file yet.
ARG SOURCE_URL=""
LABEL org.opencontainers.image.title="prescient-operator" \
      org.opencontainers.image.description="Kubernetes operator that sizes KubeVirt VMs before a command runs in them" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.base.name="docker.io/library/debian:bookworm-slim" \
      org.opencontainers.image.source="${SOURCE_URL}"

# Runtime packages: exactly those owning the libraries `ldd` lists for prescient-operator and
# prescient (hack/check-packaging.sh maps each .so to its package with dpkg -S and compares).
# RUNTIME_PKGS_BEGIN
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      ca-certificates \
      libboost-program-options1.74.0 \
      libbrotli1 \
      libcivetweb1 \
      libcpprest2.10 \
      libdmlc0 \
      libgomp1 \
      libprometheus-cpp-core1.0 \
      libprometheus-cpp-pull1.0 \
      libssl3 \
      libxgboost0 \
      libyaml-cpp0.7 \
      zlib1g \
 && rm -rf /var/lib/apt/lists/*
# RUNTIME_PKGS_END
# (libc6, libstdc++6, libgcc-s1 are part of the base image.)

COPY --from=builder /src/build/bin/prescient-operator /usr/local/bin/prescient-operator
COPY --from=builder /src/build/bin/prescient /usr/local/bin/prescient
# The default model: used with --model-dir /usr/share/prescient/models/default (the chart copies it to
# the persistent volume on first start so promoted retrained models survive restarts).
COPY models/default /usr/share/prescient/models/default
COPY operator/config/policy.yaml /etc/prescient/policy.yaml

USER 65532:65532
EXPOSE 8080 8081
ENTRYPOINT ["/usr/local/bin/prescient-operator"]
CMD ["--model-dir=/usr/share/prescient/models/default", "--config=/etc/prescient/policy.yaml"]
