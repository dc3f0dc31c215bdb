#!/usr/bin/env python3
"""Render the chat-template goldens for tokenizer/template_test.go.

Renders every conversation in testdata/chat/cases.json with the real Jinja
chat template (testdata/chat/qwen3.jinja) in an environment configured as
transformers' apply_chat_template configures it (see
transformers/utils/chat_template_utils.py, _compile_jinja_template):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) with the
loopcontrols extension, a `tojson` filter that is json.dumps with
ensure_ascii=False, and the raise_exception and strftime_now globals.
Writes testdata/chat/goldens.json.

Needs only python3-jinja2 (Debian: apt-get install -y python3-jinja2).
Usage: python3 scripts/chat/render_goldens.py [repo-root]
"""

import json
import os
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # Verbatim semantics of transformers' override of Jinja's tojson.
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent,
                      separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.now().strftime(fmt)


def environment():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True,
                                        extensions=[jinja2.ext.loopcontrols])
    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = strftime_now
    return env


def check_case(case):
    # The Go API cannot express an absent content or an empty-but-present
    # reasoning_content, so the cases must not use them.
    for m in case["messages"]:
        assert isinstance(m.get("content"), str), (case["name"], m)
        assert m.get("reasoning_content", "x") != "", (case["name"], m)


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    chat = os.path.join(root, "testdata", "chat")
    with open(os.path.join(chat, "qwen3.jinja"), encoding="utf-8") as f:
        template = environment().from_string(f.read())
    with open(os.path.join(chat, "cases.json"), encoding="utf-8") as f:
        cases = json.load(f)

    goldens = []
    for case in cases:
        check_case(case)
        kwargs = {}
        if "enable_thinking" in case:
            kwargs["enable_thinking"] = case["enable_thinking"]
        text = template.render(
            messages=case["messages"],
            tools=case.get("tools"),
            documents=None,
            add_generation_prompt=case.get("add_generation_prompt", False),
            bos_token=None,
            eos_token="<|im_end|>",
            pad_token="<|endoftext|>",
            **kwargs,
        )
        goldens.append({"name": case["name"], "text": text})

    out = os.path.join(chat, "goldens.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"jinja2_version": jinja2.__version__, "goldens": goldens},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(goldens)} goldens to {out}")


if __name__ == "__main__":
    main()
