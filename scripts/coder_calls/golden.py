#!/usr/bin/env python3
"""Renders assistant tool calls through Qwen3-Coder's chat template with
jinja2 and writes what the model would generate for them (the text after
the generation prompt) with the calls it stands for, as goldens for the
server's XML tool-call parser (server/testdata/coder_calls.json).

Run from the repository root: /usr/bin/python3 scripts/coder_calls/golden.py
"""
import json
import jinja2

TOOLS = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather of a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string"},
            "days": {"type": "integer"},
            "metric": {"type": "boolean"},
            "hours": {"type": "number"},
            "where": {"type": "object", "properties": {"lat": {"type": "number"}}},
            "tags": {"type": "array", "items": {"type": "string"}},
            "note": {"type": ["string", "null"]},
        }, "required": ["city"]}}},
    {"type": "function", "function": {"name": "write_file", "description": "Write a file.",
        "parameters": {"type": "object", "properties": {
            "path": {"type": "string"},
            "content": {"type": "string"},
        }, "required": ["path", "content"]}}},
    {"type": "function", "function": {"name": "ping", "description": "No arguments.",
        "parameters": {"type": "object", "properties": {}}}},
]

CASES = [
    ("one string parameter", "", [("get_weather", {"city": "Paris"})]),
    ("typed parameters", "", [("get_weather", {"city": "Zürich", "days": 3, "metric": True, "hours": 1.5,
                                               "where": {"lat": 47.4, "name": "it's \"here\""},
                                               "tags": ["a", "b c"], "note": None})]),
    ("multi-line code value", "", [("write_file", {"path": "src/main.go",
                                                  "content": "package main\n\nfunc main() {\n\tprintln(\"<hi> & </bye>\")\n}\n"})]),
    ("text before two calls", "Let me check both.", [("get_weather", {"city": "Oslo", "days": 2}),
                                                     ("ping", {})]),
    ("strings that look like other types", "", [("get_weather", {"city": "1234"}),
                                                ("write_file", {"path": "null", "content": "None"})]),
]


def main():
    env = jinja2.Environment(trim_blocks=False, lstrip_blocks=False)
    with open("testdata/templates/qwen3-coder.jinja") as f:
        tmpl = env.from_string(f.read())
    out = []
    for name, content, calls in CASES:
        msgs = [{"role": "user", "content": "hi"},
                {"role": "assistant", "content": content,
                 "tool_calls": [{"type": "function", "function": {"name": n, "arguments": a}} for n, a in calls]}]
        text = tmpl.render(messages=msgs, tools=TOOLS, add_generation_prompt=False)
        head = "<|im_start|>assistant\n"
        start = text.rindex("<|im_start|>assistant")
        body = text[start:]
        assert body.endswith("<|im_end|>\n"), body
        body = body[:-len("<|im_end|>\n")]
        # The model writes after the generation prompt's newline; a call
        # without content follows the header at once ("\n<tool_call>").
        gen = body[len(head):] if body.startswith(head) else body[len("<|im_start|>assistant"):]
        out.append({"name": name, "output": gen, "content": content,
                    "calls": [{"name": n, "arguments": a} for n, a in calls]})
    with open("server/testdata/coder_calls.json", "w") as f:
        json.dump({"tools": TOOLS, "cases": out}, f, indent=1, ensure_ascii=False)
        f.write("\n")


if __name__ == "__main__":
    main()
