"""Checks, inside a running interpreter, the census layout fields that no
installed header describes (dict keys before 3.11, modules before 3.13,
deques, where instance values live), reading this interpreter's own objects
with ctypes at the offsets leakbpf uses.

usage: census_table MINOR full | python census_selfcheck.py
Prints "ok NAME" or "BAD NAME: why" per check (tests/test_objects.py).
"""
import collections
import ctypes
import sys

L = dict(line.split() for line in sys.stdin if line.strip())
L = {k: int(v) for k, v in L.items()}
NONE = 0xFFFF


def word(addr):
    return ctypes.c_uint64.from_address(addr).value


def byte(addr):
    return ctypes.c_uint8.from_address(addr).value


results = []


def check(name, cond, why=""):
    results.append(("ok %s" % name) if cond else ("BAD %s: %s" % (name, why)))


# modules: md_dict
mod = sys.modules[__name__]
check("module_dict", word(id(mod) + L["module_dict"]) == id(mod.__dict__))

# dict keys: entries of a combined table, by the layout's arithmetic
keys_list = ["key%d" % i for i in range(10)]
vals = [object() for _ in range(10)]
d = dict(zip(keys_list, vals))
keys = word(id(d) + L["dict_keys"])
if L["dk_size"] != NONE:
    size = word(keys + L["dk_size"])
    ixsize = 1 if size <= 0xFF else 2 if size <= 0xFFFF else 4
    entries = keys + L["dk_indices"] + size * ixsize
    es, koff, voff = L["dk_entry_size"], 8, 16
else:
    size = 1 << byte(keys + L["dk_log2_size"])
    entries = keys + L["dk_indices"] + (1 << byte(keys + L["dk_log2_index_bytes"]))
    general = byte(keys + L["dk_kind"]) == 0
    es = L["dk_entry_size"] if general else L["dk_unicode_entry_size"]
    koff, voff = (8, 16) if general else (0, 8)
n = word(keys + L["dk_nentries"])
usable = word(keys + L["dk_usable"])
check("dk_nentries", n == 10, "nentries %d" % n)
check("dk_usable", n + usable == (2 * size) // 3, "usable %d of size %d" % (usable, size))
ok = all(word(entries + i * es + koff) == id(keys_list[i]) and
         word(entries + i * es + voff) == id(vals[i]) for i in range(10))
check("dk_entries", ok)

# deques: blocks, indices, links, the mutation counter
dq = collections.deque(range(1000, 1200))
left, right = word(id(dq) + L["CL_DEQUE_LEFTBLOCK"]), word(id(dq) + L["CL_DEQUE_RIGHTBLOCK"])
li, ri = word(id(dq) + L["CL_DEQUE_LEFTINDEX"]), word(id(dq) + L["CL_DEQUE_RIGHTINDEX"])
data, blocklen, link = L["CL_BLOCK_DATA"], L["CL_BLOCKLEN"], L["CL_BLOCK_RIGHTLINK"]
check("deque_left", word(left + data + 8 * li) == id(dq[0]))
check("deque_right", word(right + data + 8 * ri) == id(dq[-1]))
b, i, seen = left, li, []
for _ in range(len(dq)):
    seen.append(word(b + data + 8 * i))
    i += 1
    if i == blocklen:
        b, i = word(b + link), 0
check("deque_blocks", seen == [id(x) for x in dq])
state = word(id(dq) + L["CL_DEQUE_STATE"])
dq.append(1)
check("deque_state", word(id(dq) + L["CL_DEQUE_STATE"]) != state)


# instance attributes: where leakbpf looks for them
class C:
    pass


c = C()
attr = object()
c.first = attr
flags = word(id(C) + L["tp_flags"])
minor = sys.version_info[1]
if minor >= 13 and flags & L["CL_TPFLAGS_INLINE_VALUES"]:
    check("inline_values", word(id(c) + 16 + L["dv_values"]) == id(attr))
elif minor == 12:
    tagged = word(id(c) - 24)
    check("values_tagged", tagged & 1 and word(tagged + 1) == id(attr))
elif minor == 11:
    check("values_ptr", word(word(id(c) - 32)) == id(attr))
else:
    off = word(id(C) + L["tp_dictoffset"])
    check("dict_offset", word(id(c) + off) == id(c.__dict__))
check("heaptype", flags & L["CL_TPFLAGS_HEAPTYPE"] and flags & L["CL_TPFLAGS_HAVE_GC"])
if minor >= 11:
    check("managed_dict", flags & L["CL_TPFLAGS_MANAGED_DICT"])
# a materialized __dict__ sits in the pre-header from 3.11 on
vars(c)
if minor >= 11:
    check("managed_dict_ptr", word(id(c) - 24) == id(c.__dict__))

print("\n".join(results))
