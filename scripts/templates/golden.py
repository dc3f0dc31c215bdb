#!/usr/bin/env python3
"""Render the chat-template goldens for tokenizer/template_golden_test.go.

Renders every conversation in testdata/templates/conversations.json with every
template in testdata/templates/*.jinja and testdata/templates/other/*.jinja, in an environment configured as
transformers' apply_chat_template configures it
(transformers/utils/chat_template_utils.py, _compile_jinja_template and
render_jinja_template):

  - jinja2.sandbox.ImmutableSandboxedEnvironment(trim_blocks=True,
    lstrip_blocks=True, extensions=[loopcontrols]) (keep_trailing_newline is
    jinja2's default, False);
  - the tojson filter replaced by json.dumps(x, ensure_ascii=False,
    indent=indent, separators=separators, sort_keys=sort_keys);
  - the globals raise_exception (raises jinja2.exceptions.TemplateError) and
    strftime_now;
  - render(messages=..., tools=..., documents=None,
    add_generation_prompt=..., **special_tokens, **kwargs) where the special
    tokens are those set (Qwen3: eos_token and pad_token; bos_token is null
    and so absent) and kwargs holds enable_thinking when the case sets it.

A conversation the template rejects (its raise_exception, or any jinja2 or
Python error) gets {"error": ..., "raised": bool} instead of {"text": ...}.
Writes testdata/templates/golden.json.

It also renders the small templates of testdata/templates/jinja_snippets.json
(each with its own variables) in the same environment, for the jinja
package's own tests, and writes testdata/templates/jinja_golden.json.

Needs only python3-jinja2 (Debian: apt-get install -y python3-jinja2); run it
with Debian's /usr/bin/python3.
Usage: /usr/bin/python3 scripts/templates/golden.py [repo-root]
"""

import glob
import json
import os
import sys
from datetime import datetime

import jinja2
import jinja2.ext
from jinja2.sandbox import ImmutableSandboxedEnvironment


class Raised(jinja2.exceptions.TemplateError):
    """What raise_exception raises (a TemplateError, as in transformers)."""


def raise_exception(message):
    raise Raised(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    # transformers' override of Jinja's tojson (no HTML escaping).
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
        assert "content" in m, (case["name"], m)
        assert m["content"] is None or isinstance(m["content"], str), (case["name"], m)
        assert m.get("reasoning_content", "x") != "", (case["name"], m)


def render(template, case):
    kwargs = {"eos_token": case.get("eos_token", "<|im_end|>"),
              "pad_token": case.get("pad_token", "<|endoftext|>")}
    if "bos_token" in case:
        kwargs["bos_token"] = case["bos_token"]
    if "enable_thinking" in case:
        kwargs["enable_thinking"] = case["enable_thinking"]
    try:
        text = template.render(
            messages=case["messages"],
            tools=case.get("tools"),
            documents=None,
            add_generation_prompt=case.get("add_generation_prompt", False),
            **kwargs,
        )
    except Raised as e:
        return {"error": str(e), "raised": True}
    except Exception as e:  # noqa: BLE001 - any failure is a rejection
        return {"error": f"{type(e).__name__}: {e}", "raised": False}
    return {"text": text}


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
    tdir = os.path.join(root, "testdata", "templates")
    with open(os.path.join(tdir, "conversations.json"), encoding="utf-8") as f:
        cases = json.load(f)
    for case in cases:
        check_case(case)

    env = environment()
    results = {}
    paths = glob.glob(os.path.join(tdir, "*.jinja")) + glob.glob(os.path.join(tdir, "other", "*.jinja"))
    for path in sorted(paths):
        name = os.path.relpath(path, tdir)
        with open(path, encoding="utf-8", newline="") as f:
            template = env.from_string(f.read())
        results[name] = {case["name"]: render(template, case) for case in cases}

    out = os.path.join(tdir, "golden.json")
    with open(out, "w", encoding="utf-8") as f:
        json.dump({"jinja2_version": jinja2.__version__, "results": results},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    with open(os.path.join(tdir, "jinja_snippets.json"), encoding="utf-8") as f:
        snippets = json.load(f)
    snippet_results = {}
    for sn in snippets:
        try:
            template = env.from_string(sn["template"])
        except Exception as e:  # noqa: BLE001
            snippet_results[sn["name"]] = {"error": f"{type(e).__name__}: {e}", "raised": False, "parse": True}
            continue
        try:
            snippet_results[sn["name"]] = {"text": template.render(**sn["vars"])}
        except Raised as e:
            snippet_results[sn["name"]] = {"error": str(e), "raised": True}
        except Exception as e:  # noqa: BLE001
            snippet_results[sn["name"]] = {"error": f"{type(e).__name__}: {e}", "raised": False}
    out2 = os.path.join(tdir, "jinja_golden.json")
    with open(out2, "w", encoding="utf-8") as f:
        json.dump({"jinja2_version": jinja2.__version__, "results": snippet_results},
                  f, ensure_ascii=False, indent=1)
        f.write("\n")
    print(f"wrote {len(snippet_results)} snippet results to {out2}")

    n = sum(len(r) for r in results.values())
    errs = sum("error" in x for r in results.values() for x in r.values())
    print(f"wrote {n} results ({errs} rejections) for {len(results)} templates to {out}")


if __name__ == "__main__":
    main()
