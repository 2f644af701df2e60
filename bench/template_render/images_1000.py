"""Quality-bar check (not a test): a werf.yaml with 1,000 images made by one ``range`` over a list, with
``include`` in the body, must render and load (parse + validate) in at most 1 s.

Run: .venv/bin/python bench/template_render/images_1000.py [--images N] [--repeat R] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import statistics
import time

from shipyard.config.template import render
from shipyard.config.validate import parse_werf_config

TEMPLATE = """{{- $_ := set . "BaseImage" "ubuntu:22.04" }}
{{- define "packages" }}
{{- range $p := . }}
- apt-get install -y {{ $p | quote }}
{{- end }}
{{- end }}
{{- define "image" }}
image: {{ .name }}
from: {{ .base }}
git:
- add: /{{ .name }}
  to: /app
  stageDependencies:
    install:
{{- range $f := list "package.json" "package-lock.json" "Gemfile.lock" }}
    - {{ $f }}
{{- end }}
shell:
  beforeInstall:
{{- include "packages" (list "curl" "git" "make") | indent 2 }}
  install:
{{- range $i, $cmd := .commands }}
  - {{ $cmd | replace "APP" $.name }} # step {{ add $i 1 }}
{{- end }}
docker:
  ENV:
{{- range $k, $v := .env }}
    {{ $k }}: {{ $v | default "none" | quote }}
{{- end }}
  LABEL:
    version: {{ .version | trimPrefix "v" | quote }}
    hash: {{ .name | sha256sum | trunc 12 | quote }}
{{- if eq (mod .index 2) 0 }}
  EXPOSE: "8080"
{{- end }}
{{- end }}
project: bench
configVersion: 1
{{- range $i, $name := .Images }}
---
{{- include "image" (dict "name" $name "index" $i "base" $.BaseImage "commands" $.Commands "env" $.Env
      "version" $.Version) }}
{{- end }}
"""


def make_data(images: int) -> dict[str, object]:
    return {
        "Images": [f"app-{n:04d}" for n in range(images)],
        "Commands": [f"make -C APP target{i}" for i in range(3)],
        "Env": {"LANG": "C.UTF-8", "TZ": "UTC", "DEBUG": ""},
        "Version": "v1.2.3",
    }


def measure(images: int) -> tuple[float, float, int, int]:
    """(render seconds, parse + validate seconds, output lines, images loaded) for one fresh run."""
    data = make_data(images)
    start = time.perf_counter()
    text = render(TEMPLATE, data=data)
    rendered = time.perf_counter()
    config = parse_werf_config(text)
    loaded = time.perf_counter()
    return rendered - start, loaded - rendered, text.count("\n"), len(config.images)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--profile", action="store_true", help="cProfile one run, print the top functions")
    args = parser.parse_args()
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(measure, args.images)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(25)
        return
    runs = [measure(args.images) for _ in range(args.repeat)]
    renders, loads = [r[0] for r in runs], [r[1] for r in runs]
    totals = [r[0] + r[1] for r in runs]
    _, _, lines, loaded = runs[0]
    print(f"werf.yaml: {args.images} images (one range, include in the body); {lines} lines, {loaded} loaded")
    print(f"{'phase':<22}{'median':>10}{'min':>10}")
    for label, values in (("render", renders), ("parse + validate", loads), ("total", totals)):
        print(f"{label:<22}{statistics.median(values):>9.3f}s{min(values):>9.3f}s")
    verdict = "met" if statistics.median(totals) <= 1.0 else "NOT met"
    print(f"target total <= 1 s: {verdict}")


if __name__ == "__main__":
    main()
