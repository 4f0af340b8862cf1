# digest: the web pages and the scheduler in one small image.
#   docker build -t digest .
#   docker run -d -p 8080:8080 -v "$PWD/config:/config" -v digest-state:/state \
#     -e DIGEST_SECRET=… -e SMTP_PASSWORD=… digest
#   (add -p 8024:8024 for LMTP from a mail server; see the README's "Bounces, complaints…")

# Build a wheel in a throwaway stage, so the final image carries no build tools.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY digest ./digest
COPY templates ./templates
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/*.whl && rm -rf /wheels \
    && groupadd --system --gid 10001 digest \
    && useradd --system --uid 10001 --gid 10001 --home-dir /state --no-create-home digest \
    && mkdir -p /config /state && chown 10001:10001 /state
USER 10001:10001
# The config folder holds digest.yaml and profiles/. Point state_dir at /state in it
# (state_dir: /state): the ledger, outbox and secret must outlive the container.
VOLUME ["/config", "/state"]
# 8080: the web pages and /healthz. 8024: bounces, complaints and mailed unsubscribes over LMTP,
# when digest.yaml sets `inbound.lmtp: 0.0.0.0:8024` (off otherwise: nothing listens there).
EXPOSE 8080 8024
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["digest"]
CMD ["serve", "--config", "/config/digest.yaml", "--host", "0.0.0.0", "--port", "8080"]
