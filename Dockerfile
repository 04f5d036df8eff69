# syntax=docker/dockerfile:1
# headscale (Headscale.Actors) server image: built with the .NET SDK, run on the ASP.NET runtime as
# the image's non-root `app` user. Build from the repository root:
#   docker build -t headscale-actors .
# compose/docker-compose.yml builds it as the `headscale` service.

FROM mcr.microsoft.com/dotnet/sdk:10.0-alpine AS build
WORKDIR /src

# Restore first, from the project files alone, so that source edits reuse the package layer.
COPY global.json Directory.Build.props Directory.Packages.props ./
COPY src/Headscale.Protocol/Headscale.Protocol.csproj src/Headscale.Protocol/
COPY src/Headscale.Policy/Headscale.Policy.csproj src/Headscale.Policy/
COPY src/Headscale.Derp/Headscale.Derp.csproj src/Headscale.Derp/
COPY src/Headscale.Actors/Headscale.Actors.csproj src/Headscale.Actors/
COPY src/Headscale.Api/Headscale.Api.csproj src/Headscale.Api/
# Restored for the image's runtime (x64 or arm64 Alpine) so that publish can precompile (ReadyToRun).
ARG TARGETARCH
RUN dotnet restore src/Headscale.Api/Headscale.Api.csproj -r "linux-musl-$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64)"

COPY hocon/ hocon/
COPY src/ src/
# ReadyToRun: code paths first taken long after start (the first policy change, the first route approval) run
# precompiled instead of waiting for the JIT; see docs/decisions/0905-ready-to-run.md.
RUN dotnet publish src/Headscale.Api/Headscale.Api.csproj -c Release --no-restore \
        -r "linux-musl-$([ "$TARGETARCH" = arm64 ] && echo arm64 || echo x64)" --self-contained false \
        -p:PublishReadyToRun=true -p:UseAppHost=false -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0-alpine AS runtime
# The data directory (Noise key, unix socket) must be writable by the non-root user. The wrapper
# lets operators run the CLI as `docker compose exec headscale headscale …`.
RUN mkdir -p /etc/headscale /var/lib/headscale \
    && chown app:app /var/lib/headscale \
    && printf '#!/bin/sh\nexec dotnet /app/headscale.dll "$@"\n' > /usr/local/bin/headscale \
    && chmod 755 /usr/local/bin/headscale
WORKDIR /app
COPY --from=build /app ./

ENV HEADSCALE_CONFIG=/etc/headscale/config.yaml
VOLUME ["/var/lib/headscale"]
EXPOSE 8080 9090 50443
USER app

# busybox wget is part of the Alpine base image; /health is 200 only while the database answers.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD wget -q -O /dev/null http://127.0.0.1:8080/health || exit 1

ENTRYPOINT ["dotnet", "/app/headscale.dll"]
CMD ["serve"]
