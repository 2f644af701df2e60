"""Render-speed check (not a test): a 2,000-line werf.yaml with 50 images, loops, includes and sprig calls.

Run: .venv/bin/python bench/template_render/run.py
"""

from __future__ import annotations

import statistics
import time

from shipyard.config.template import render

HEADER = """{{ $_ := set . "BaseImage" "ubuntu:22.04" }}
{{- define "packages" }}
{{- range $p := . }}
  - apt-get install -y {{ $p | quote }}
{{- end }}
{{- end }}
project: bench
configVersion: 1
"""

IMAGE = """---
image: {{ printf "app-%02d" {n} }}
from: {{ $.BaseImage }}
{{- $name := printf "app-%02d" {n} }}
git:
- add: /{{ $name }}
  to: /app
  stageDependencies:
    install:
{{- range $f := list "package.json" "package-lock.json" "Gemfile.lock" }}
    - {{ $name }}/{{ $f }}
{{- end }}
shell:
  beforeInstall:
{{- include "packages" (list "curl" "git" "make" "gcc") }}
  install:
{{- range $i, $cmd := $.Commands }}
  - {{ $cmd | replace "APP" $name }} # step {{ add $i 1 }}
{{- end }}
  setup:
  - echo {{ $name | upper | quote }}
{{- if eq (mod {n} 2) 0 }}
  - echo even
{{- else }}
  - echo odd
{{- end }}
docker:
  ENV:
{{- range $k, $v := $.Env }}
    {{ $k }}: {{ $v | default "none" | quote }}
{{- end }}
  LABEL:
    version: {{ $.Version | trimPrefix "v" }}
    hash: {{ $name | sha256sum | trunc 12 }}
{{- with $.Extra }}
  EXPOSE: {{ .port }}
{{- end }}
import:
- image: {{ printf "app-%02d" (max 0 (sub {n} 1)) }}
  add: /app/build
  to: /build
  after: install
{{- if hasKey $.Env "DEBUG" }}
  # debug build
{{- end }}
"""

DATA_TEMPLATE = {
    "Commands": [f"make -C APP target{i}" for i in range(5)],
    "Env": {"LANG": "C.UTF-8", "TZ": "UTC", "DEBUG": "", "PATH": "/usr/bin"},
    "Version": "v1.2.3",
    "Extra": {"port": 8080},
}


def build_text(images: int = 50) -> str:
    return HEADER + "".join(IMAGE.replace("{n}", str(n)) for n in range(images))


def main() -> None:
    text = build_text()
    lines = text.count("\n")
    timings = []
    for _ in range(20):
        data = {k: (dict(v) if isinstance(v, dict) else v) for k, v in DATA_TEMPLATE.items()}
        start = time.perf_counter()
        output = render(text, data=data)
        timings.append((time.perf_counter() - start) * 1000)
    print(f"template: {lines} lines, output {output.count(chr(10))} lines")
    print(f"render (parse + execute): median {statistics.median(timings):.1f} ms, min {min(timings):.1f} ms")


if __name__ == "__main__":
    main()
