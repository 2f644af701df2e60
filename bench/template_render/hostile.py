"""Hostile templates (not a test): how long each takes to stop with its TemplateLimitError under the real
limits (shipyard.config.template.limits), and the message's reason. Nothing here may hang, raise
RecursionError or MemoryError, or take more than a few seconds.

Run: .venv/bin/python bench/template_render/hostile.py [NAME…]
"""

from __future__ import annotations

import sys
import time

from shipyard.config.template import TemplateError, render

RECURSE = '{{ define "x" }}BODY{{ end }}{{ include "x" 1 }}'
LOOP = "{{ range $i := 1000000000000 }}BODY{{ end }}"
CASES = {
    "template recursion": '{{ define "l" }}{{ template "l" . }}{{ end }}{{ template "l" . }}',
    "include recursion": RECURSE.replace("BODY", '{{ include "x" . }}'),
    "tpl recursion": RECURSE.replace("BODY", '{{ tpl "{{ include \\"x\\" . }}" . }}'),
    "include in parentheses": RECURSE.replace("BODY", '{{ if . }}{{ ((include "x" .)) }}{{ end }}'),
    "50,000 nested parentheses": "{{ " + "(" * 50_000 + "1" + ")" * 50_000 + " }}",
    "50,000 nested ifs": "{{ if 1 }}" * 50_000 + "x" + "{{ end }}" * 50_000,
    "range over 10^12, empty": LOOP.replace("BODY", ""),
    "range over 10^12, print": LOOP.replace("BODY", "{{ $i }}"),
    "range over 10^12, add": LOOP.replace("BODY", "{{ add $i 1 }}"),
    "range, printf | quote": LOOP.replace("BODY", '{{ printf "%d" $i | upper | quote }}'),
    "nested ranges": "{{ range until 1000000 }}{{ range until 1000000 }}x{{ end }}{{ end }}",
    "until 10^8": "{{ until 100000000 }}",
    "seq 10^8": "{{ seq 100000000 }}",
    "repeat 10^8": '{{ repeat 100000000 "x" }}',
    "splitn into 3M pieces": '{{ splitn "," 5000000 (repeat 3000000 ",") }}',
    "append in a loop": "{{ $l := list }}{{ range until 1000000 }}{{ $l = append $l . }}{{ end }}",
    "string doubling": '{{ $s := "x" }}{{ range until 100 }}{{ $s = print $s $s }}{{ end }}',
    "60 MB strings kept": "{{ $d := dict }}{{ range until 1000 }}{{ $_ := set $d (toString .) "
    '(repeat 60000000 "x") }}{{ end }}',
    "output over 64 MiB": '{{ $s := repeat 40000000 "x" }}{{ $s }}{{ $s }}',
    "toJson of shared sub-lists": "{{ $l := list 1 }}{{ range until 60 }}{{ $l = list $l $l }}{{ end }}"
    "{{ toJson $l }}",
    "contains on 1 MB, looped": '{{ $s := repeat 1000000 "x" }}{{ range until 1000000 }}'
    '{{ contains "y" $s }}{{ end }}',
    "has on 100k list, looped": "{{ $l := until 100000 }}{{ range until 1000000 }}{{ has -1 $l }}{{ end }}",
}


def main() -> None:
    names = sys.argv[1:] or list(CASES)
    print(f"{'hostile template':<30}{'time':>8}  reason")
    for name in names:
        start = time.perf_counter()
        try:
            render(CASES[name], data={})
            outcome = "rendered (!)"
        except TemplateError as err:
            outcome = err.message.rsplit(": ", 1)[-1] if "executing" not in err.message else err.message
            outcome = outcome.split(">: ", 1)[-1]
        elapsed = time.perf_counter() - start
        print(f"{name:<30}{elapsed:>7.2f}s  {outcome[:90]}", flush=True)


if __name__ == "__main__":
    main()
