"""Print KIND FIRSTLINENO HEXTABLE LASTI... lines for tests/py/linetable_check.c
and, on stderr-free stdout after a '---' line, the expected lines, for every
code object of a few stdlib modules, using the running interpreter's own
view of its line tables (co_lines() from 3.10, dis.findlinestarts before)."""
import dis
import sys
import types

MODULES = ["dis", "json.decoder", "argparse", "asyncio.base_events", "logging"]


def code_objects():
    for name in MODULES:
        mod = __import__(name, fromlist=["x"])
        with open(mod.__file__, encoding="utf-8") as f:
            src = f.read()
        stack = [compile(src, mod.__file__, "exec")]
        while stack:
            co = stack.pop()
            yield co
            stack.extend(c for c in co.co_consts if isinstance(c, types.CodeType))


def expected(co):
    """{code unit offset: line or 0} for every instruction."""
    n = len(co.co_code) // 2
    if sys.version_info >= (3, 10):
        out = {}
        for start, end, line in co.co_lines():
            for b in range(start, end, 2):
                out[b // 2] = line or 0
        return out
    starts = dict(dis.findlinestarts(co))
    out, line = {}, co.co_firstlineno
    for u in range(n):
        line = starts.get(2 * u, line)
        out[u] = line
    return out


def main():
    kind = 1 if sys.version_info < (3, 10) else 2 if sys.version_info < (3, 11) else 3
    cases, exp = [], []
    for co in code_objects():
        table = co.co_lnotab if kind == 1 else co.co_linetable
        want = expected(co)
        offs = sorted(want)
        cases.append(f"{kind} {co.co_firstlineno} {table.hex() or '-'} " +
                     " ".join(str(o) for o in offs))
        exp.append(" ".join(str(want[o]) for o in offs))
    print("\n".join(cases))
    print("---")
    print("\n".join(exp))


main()
