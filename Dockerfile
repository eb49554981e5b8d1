# One image for every Drafter service; docker-compose.yml picks the command.
# syntax=docker/dockerfile:1

FROM python:3.11-slim AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/drafter
ENV PATH=/opt/drafter/bin:$PATH
# Dependencies first, so code changes do not invalidate this layer.
COPY pyproject.toml README.md ./
RUN mkdir -p drafter services edge \
 && touch drafter/__init__.py services/__init__.py edge/__init__.py \
 && pip install . \
 && pip uninstall -y drafter
COPY drafter ./drafter
COPY services ./services
COPY edge ./edge
RUN pip install --no-deps .
# Warm numba's compile cache: importing rembg imports pymatting, which compiles its
# functions with numba (tens of seconds). Compiled here once, for a generic CPU so the
# cache holds on any x86-64/arm64 host, it loads in about a second at run time.
ENV NUMBA_CACHE_DIR=/numba-cache NUMBA_CPU_NAME=generic
RUN mkdir -p /numba-cache && python -c "import rembg" && test -n "$(ls -A /numba-cache)"

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 drafter \
 && mkdir -p /data && chown drafter /data
COPY --from=build /opt/drafter /opt/drafter
# The warmed cache, owned by the service user: numba finds its entries there (they are
# keyed by the source files' paths and times, copied unchanged above) and can add more.
COPY --from=build --chown=drafter:drafter /numba-cache /var/cache/drafter/numba
ENV PATH=/opt/drafter/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    DRAFTER_DATA_DIR=/data \
    U2NET_HOME=/data/models \
    NUMBA_CACHE_DIR=/var/cache/drafter/numba \
    NUMBA_CPU_NAME=generic
USER drafter
WORKDIR /home/drafter
VOLUME ["/data"]
EXPOSE 8080 50051 50052 50053
CMD ["drafter", "up", "--host", "0.0.0.0", "--port", "8080"]
