// Package jinja renders the Jinja chat templates that models ship, byte for
// byte as Python's jinja2 renders them under Hugging Face transformers'
// settings: an ImmutableSandboxedEnvironment with trim_blocks and
// lstrip_blocks on, keep_trailing_newline off, the loopcontrols extension,
// a tojson filter that is json.dumps(ensure_ascii=False), and the
// raise_exception and strftime_now globals.
//
// It implements the subset of Jinja that chat templates use: output,
// if/elif/else, for (with loop variables, filtering, else, break and
// continue), set (names, namespace attributes, blocks), macros, the
// generation block, comments, whitespace control, and Python's value
// semantics for the built-in types (str, int, float, bool, None, list,
// tuple, dict with insertion order), their common methods, and jinja2's
// common filters and tests. Anything else is reported when the template is
// parsed, or when it is rendered if jinja2 would only fail then.
//
// Values passed in are built with FromJSON, FromGo, NewDict and NewList so
// that dict key order is the caller's, as it is in Python.
//
// A render is bounded: output size, loop iterations and macro recursion have
// limits, so that no template or input can exhaust memory or hang.
package jinja
