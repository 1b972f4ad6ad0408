// The multi-stage project the build tests (and the fixture recorder) use: a Dockerfile with every
// instruction of the classic builder, and a context with files, a tar to ADD and a .dockerignore.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

/** The config fields compared with what dockerd 20.10 makes of the same Dockerfile. */
export const CONFIG_FIELDS = ['Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'User', 'Labels', 'ExposedPorts', 'Volumes', 'Healthcheck', 'StopSignal', 'OnBuild'] as const;

export function dockerfile(urlBase: string): string {
  return `# escape=\\
ARG BASE=busybox
FROM \${BASE} AS builder
ARG GREETING=hello
ENV APP_HOME=/app \\
    MODE=build
# a comment inside the stage
WORKDIR $APP_HOME
COPY src/*.txt ./
COPY src/dir/ ./dir/
COPY --chown=1000:1000 conf/app.conf /etc/app.conf
ADD files.tar.gz /opt/
ADD ${urlBase}/remote.txt /remote/
RUN echo "$GREETING from $MODE" > /greeting && \\
    cat /app/a.txt >> /greeting
RUN ["sh", "-c", "ls /opt > /opt-list"]
SHELL ["/bin/sh", "-c"]

FROM busybox
MAINTAINER someone@example.com
LABEL org.example.name="berth test" version=1
ENV PATH=/usr/local/bin:/bin GREETING=hi
COPY --from=builder /greeting /greeting
COPY --from=builder /app/ /srv/app/
COPY --from=0 /etc/app.conf /opt-list /remote/remote.txt /copied/
WORKDIR /srv
USER 1000:1000
EXPOSE 8080 53/udp
VOLUME ["/data"]
STOPSIGNAL SIGINT
HEALTHCHECK --interval=30s --timeout=3s --retries=2 CMD test -f /greeting
ONBUILD RUN echo child build
ENTRYPOINT ["sh", "-c"]
CMD ["cat /greeting; ls /srv/app /srv/app/dir /copied"]
`;
}

/** Writes the context into dir (the tar to ADD is made with GNU tar). */
export function writeProject(dir: string, urlBase: string): void {
  mkdirSync(join(dir, 'src/dir/sub'), { recursive: true });
  mkdirSync(join(dir, 'conf'), { recursive: true });
  mkdirSync(join(dir, 'payload/etc'), { recursive: true });
  writeFileSync(join(dir, 'Dockerfile'), dockerfile(urlBase));
  writeFileSync(join(dir, 'src/a.txt'), 'file a\n');
  writeFileSync(join(dir, 'src/b.txt'), 'file b\n');
  writeFileSync(join(dir, 'src/skip.md'), 'not copied by *.txt\n');
  writeFileSync(join(dir, 'src/dir/sub/deep.txt'), 'deep\n');
  writeFileSync(join(dir, 'conf/app.conf'), 'key=value\n');
  writeFileSync(join(dir, 'payload/etc/unpacked.txt'), 'from the tar\n');
  execFileSync('tar', ['-czf', join(dir, 'files.tar.gz'), '-C', join(dir, 'payload'), '.']);
  writeFileSync(join(dir, 'secret.env'), 'PASSWORD=hunter2\n');
  writeFileSync(join(dir, '.dockerignore'), 'secret.env\npayload\n');
}
