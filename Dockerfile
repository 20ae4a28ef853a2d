# syntax=docker/dockerfile:1
#
# Customer Success Digital FTE — one image, many processes.
#
#   docker build -t customer-success-fte:local .
#   docker run --rm customer-success-fte:local api        # default (CMD)
#   docker run --rm customer-success-fte:local worker     # or dispatcher | relay | migrate | topics
#
# All configuration comes from environment variables (see docker-compose.yml and k8s/configmap.yaml).

ARG PYTHON_IMAGE=python:3.11-slim
ARG NODE_IMAGE=node:20-slim

# ---------------------------------------------------------------------------
# Stage 0: build the web app (support form, operator console, widget.js).
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS web

WORKDIR /web

# Dependencies first: this layer is rebuilt only when the lock file changes.
COPY web-form/package.json web-form/package-lock.json ./
RUN npm ci --no-audit --no-fund

COPY web-form/ ./
RUN npm run build

# ---------------------------------------------------------------------------
# Stage 1: build the package and its dependencies into a self-contained venv.
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS builder

ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH

RUN python -m venv "${VIRTUAL_ENV}" \
 && pip install --upgrade pip setuptools wheel

WORKDIR /src

# The build context is filtered by .dockerignore (no tests, venvs, secrets or VCS data).
COPY . .

# A regular (non-editable) install: the runtime stage never needs /src.
RUN pip install . \
 && pip check \
 && python -m compileall -q "${VIRTUAL_ENV}"

# ---------------------------------------------------------------------------
# Stage 2: minimal runtime, non-root, read-only-root-filesystem friendly.
# ---------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime

ARG APP_UID=10001
ARG APP_GID=10001

LABEL org.opencontainers.image.title="customer-success-fte" \
      org.opencontainers.image.description="Customer Success Digital FTE: AI customer-support service (api, worker, dispatcher, relay, migrate, topics)"

ENV VIRTUAL_ENV=/opt/venv \
    PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONFAULTHANDLER=1 \
    HOME=/tmp \
    API_HOST=0.0.0.0 \
    API_PORT=8000 \
    METRICS_PORT=9100

RUN groupadd --system --gid "${APP_GID}" fte \
 && useradd --system --uid "${APP_UID}" --gid "${APP_GID}" \
        --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin fte

COPY --from=builder --chown=root:root /opt/venv /opt/venv
# Served by the API at /support, /console and /widget.js.
COPY --from=web --chown=root:root /web/dist /opt/web
ENV WEB_DIST_DIR=/opt/web

WORKDIR /tmp

# Numeric UID:GID so that Kubernetes runAsNonRoot can verify it without /etc/passwd.
USER ${APP_UID}:${APP_GID}

# 8000: HTTP API (fte api, also serves /metrics); 9100: Prometheus metrics of worker/dispatcher/relay.
EXPOSE 8000 9100

# No HEALTHCHECK: liveness/readiness are probed by Kubernetes (and compose uses depends_on conditions).
ENTRYPOINT ["fte"]
CMD ["api"]
