#!/usr/bin/env python3
"""Fails on an import cycle between the modules of a crate.

    python3 scripts/check-module-cycles.py livepose-core/src livepose-ws/src [-v]
        [--allow=crate::a,crate::b]

For each crate source folder (its `lib.rs` at the root), every module (a file, or a folder
with its `mod.rs`) is a node; every path a module names (`use crate::…`, `use super::…`,
`crate::a::b(…)` in code, in `pub use` re-exports too) is an edge to the module that
defines the item, found through the re-exports. Comments and string literals are left out.

Two levels are checked, each must be acyclic:
- the crate's top-level modules (`crate::a` as one node for everything under `a`);
- within each folder, its direct submodules (`a::b` and `a::c`; `a`'s own `mod.rs` is a node
  of its own there, so a child that imports from its parent while the parent imports from
  it is a cycle too).

`--self-test` runs the checker on small crates with and without cycles; `-v` prints the
edges; `--allow=crate::a,crate::b` lets a known cycle between exactly those
modules pass (named on its own line), so that a new one still fails. Standard library only; a few hundred milliseconds per crate (CI
stays short: `cargo modules dependencies --acyclic` would compile rust-analyzer first).
"""

import os
import re
import sys
from collections import defaultdict

IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip_comments_and_strings(text):
    """The source with comments, string and char literals blanked (lines kept)."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            depth, i = 1, i + 2
            while i < n and depth:
                if text.startswith("/*", i):
                    depth, i = depth + 1, i + 2
                elif text.startswith("*/", i):
                    depth, i = depth - 1, i + 2
                else:
                    if text[i] == "\n":
                        out.append("\n")
                    i += 1
        elif c == "r" and re.match(r'r#*"', text[i:i + 70]) and (i == 0 or not re.match(r"\w", text[i - 1])):
            m = re.match(r'r(#*)"', text[i:])
            end = text.find('"' + m.group(1), i + len(m.group(0)))
            end = n if end < 0 else end + 1 + len(m.group(1))
            out.append('""' + "\n" * text.count("\n", i, end))
            i = end
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'":
            # A char literal ('a', '\n', '\u{1F600}'), not a lifetime ('a).
            m = re.match(r"'(\\u\{[0-9a-fA-F]+\}|\\.|[^\\'])'", text[i:])
            if m:
                out.append("' '")
                i += len(m.group(0))
            else:
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def split_top(text, sep=","):
    """Splits at `sep` outside braces."""
    parts, depth, cur = [], 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        if ch == sep and depth == 0:
            parts.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    parts.append("".join(cur))
    return [p.strip() for p in parts if p.strip()]


def expand_use_tree(tree, prefix=()):
    """`a::{b, c::{d, e as f}}` -> [(path, name)] with the name it binds."""
    tree = tree.strip()
    if not tree:
        return []
    m = re.match(r"^(.*?)::\{(.*)\}$", tree, re.S) or re.match(r"^()\{(.*)\}$", tree, re.S)
    if m:
        head = [s for s in m.group(1).split("::") if s] if m.group(1) else []
        result = []
        for part in split_top(m.group(2)):
            result += expand_use_tree(part, prefix + tuple(head))
        return result
    alias = None
    m = re.match(r"^(.*)\s+as\s+(" + IDENT + r")$", tree, re.S)
    if m:
        tree, alias = m.group(1).strip(), m.group(2)
    segs = [s.strip() for s in tree.split("::") if s.strip()]
    path = prefix + tuple(segs)
    if segs == ["self"]:
        path = prefix
        name = alias or (prefix[-1] if prefix else None)
    elif segs and segs[-1] == "*":
        name = "*"
        path = prefix + tuple(segs[:-1])
    else:
        name = alias or segs[-1]
    return [(path, name)]


class Crate:
    def __init__(self, src):
        self.src = src
        self.files = {}  # module path (tuple) -> file
        for root, _, files in os.walk(src):
            for f in files:
                if not f.endswith(".rs"):
                    continue
                full = os.path.join(root, f)
                rel = os.path.relpath(full, src)[:-3].split(os.sep)
                if rel[-1] in ("mod", "lib", "main"):
                    rel = rel[:-1]
                self.files[tuple(rel)] = full
        # Only files reachable by `mod` declarations are modules.
        self.modules = set()
        self._collect(())
        self.texts = {m: strip_comments_and_strings(open(self.files[m]).read()) for m in self.modules}
        self.exports = defaultdict(dict)  # module -> name -> absolute path
        self.uses = defaultdict(list)  # module -> [absolute paths]
        for m in self.modules:
            self._read(m)

    def _collect(self, module):
        if module not in self.files:
            return
        self.modules.add(module)
        text = strip_comments_and_strings(open(self.files[module]).read())
        # `#[path = …]` modules are not used in these crates; inline `mod x { … }` blocks
        # are part of their file's module.
        for m in re.finditer(r"^\s*(?:pub(?:\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;", text, re.M):
            self._collect(module + (m.group(1),))

    def absolute(self, module, path):
        """A path as written in `module`, from the crate root."""
        path = list(path)
        if not path:
            return None
        if path[0] == "crate":
            return tuple(path[1:])
        if path[0] in ("self", "super"):
            base = list(module)
            while path and path[0] in ("self", "super"):
                if path.pop(0) == "super":
                    if not base:
                        return None
                    base.pop()
            return tuple(base + path)
        # A path from a module in scope: `use submodule::X` (2018 paths resolve the
        # current module's children too).
        if module + (path[0],) in self.modules:
            return module + tuple(path)
        return None  # an external crate or a prelude name

    @staticmethod
    def inline_modules(text):
        """(start, end, name) of each inline `mod name { … }` block."""
        blocks = []
        for m in re.finditer(r"\bmod\s+(" + IDENT + r")\s*\{", text):
            depth, i = 0, m.end() - 1
            while i < len(text):
                if text[i] == "{":
                    depth += 1
                elif text[i] == "}":
                    depth -= 1
                    if depth == 0:
                        break
                i += 1
            blocks.append((m.start(), i, m.group(1)))
        return blocks

    def scope(self, module, blocks, pos):
        """The module a position of `module`'s file is in (inline blocks count)."""
        inner = [b for b in blocks if b[0] <= pos <= b[1]]
        return module + tuple(name for _, _, name in sorted(inner))

    def _read(self, module):
        text = self.texts[module]
        blocks = self.inline_modules(text)
        spans = []
        for m in re.finditer(r"\b(pub(?:\([^)]*\))?\s+)?use\s+([^;]*);", text, re.S):
            spans.append((m.start(), m.end()))
            public = bool(m.group(1))
            here = self.scope(module, blocks, m.start())
            for path, name in expand_use_tree(m.group(2)):
                target = self.absolute(here, path)
                if target is None:
                    continue
                facade = public and here == module and target[:len(module)] == module
                if public and here == module and name and name != "*":
                    self.exports[module][name] = target
                # A folder re-exporting what its own submodules define is its facade, not
                # a use: only its code's imports count.
                if not facade:
                    self.uses[module].append(target)
        rest = list(text)
        for a, b in spans:
            rest[a:b] = " " * (b - a)
        rest = "".join(rest)
        for m in re.finditer(r"(?<![\w:])((?:crate|super|self)(?:::" + IDENT + r")+)", rest):
            target = self.absolute(self.scope(module, blocks, m.start()), m.group(1).split("::"))
            if target is not None:
                self.uses[module].append(target)
        # A submodule named bare in code (`views::announce(…)`).
        for m in re.finditer(r"(?<![\w:])(" + IDENT + r")::", rest):
            here = self.scope(module, blocks, m.start())
            if here + (m.group(1),) in self.modules:
                self.uses[module].append(here + (m.group(1),))

    def resolve(self, path, seen=()):
        """The module that defines the item at `path` (through re-exports)."""
        for k in range(len(path), -1, -1):
            prefix = tuple(path[:k])
            if prefix in self.modules:
                if k < len(path) and path[k] in self.exports[prefix] and (prefix, path[k]) not in seen:
                    target = self.exports[prefix][path[k]] + tuple(path[k + 1:])
                    return self.resolve(target, seen + ((prefix, path[k]),))
                return prefix
        return ()

    def edges(self):
        result = set()
        for m in self.modules:
            for path in self.uses[m]:
                t = self.resolve(path)
                if t != m:
                    result.add((m, t))
        return result


def cycles(nodes, edges):
    """The strongly connected components with more than one node (Tarjan)."""
    graph = defaultdict(set)
    for a, b in edges:
        if a != b:
            graph[a].add(b)
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return out


def name(module):
    return "::".join(("crate",) + module)


def check(src, verbose):
    crate = Crate(src)
    edges = crate.edges()
    problems = []
    # Within each folder (the crate's root first: its top-level modules): its own file and
    # each child, with what is under it.
    for folder in sorted(m for m in crate.modules if any(len(o) == len(m) + 1 and o[:len(m)] == m for o in crate.modules)):
        d = len(folder)

        def node(m):
            if m[:d] != folder:
                return None
            return m[:d + 1]

        inner = {(node(a), node(b)) for a, b in edges}
        inner = {(a, b) for a, b in inner if a is not None and b is not None and a != b}
        members = {node(m) for m in crate.modules if node(m) is not None}
        for comp in cycles(members, inner):
            text = "in " + name(folder) + ": " + " <-> ".join(name(c) for c in comp)
            making = sorted((a, b) for a, b in edges if node(a) in comp and node(b) in comp and node(a) != node(b))
            problems.append((text, making))
    if verbose:
        for a, b in sorted(edges):
            print(f"  {name(a)} -> {name(b)}")
    which = [(a, b) for a, b in sorted(edges)]
    return crate, problems, which


def self_test():
    """The checker on small crates made here: each cycle it must find, and none where none is."""
    import tempfile

    def crate(files):
        root = tempfile.mkdtemp(prefix="cycles-")
        for path, text in files.items():
            full = os.path.join(root, path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, "w") as f:
                f.write(text)
        return [p[0] for p in check(root, False)[1]]

    lib = "mod a;\nmod b;\nmod f;\n"
    cases = [
        ({"lib.rs": lib, "a.rs": "use crate::b::X;", "b.rs": "pub struct X; // crate::a", "f/mod.rs": ""}, []),
        ({"lib.rs": lib, "a.rs": "use crate::b::X;", "b.rs": "pub struct X; fn g() { crate::a::h() }", "f/mod.rs": ""},
         ["in crate: crate::a <-> crate::b"]),
        # Through a re-export, and a folder's submodule reaching into a sibling folder.
        ({"lib.rs": lib + "pub use b::X;", "a.rs": "use crate::X;", "b.rs": "pub struct X;\nuse crate::f::g::Y;",
          "f/mod.rs": "mod g;\npub(crate) use g::Y;", "f/g.rs": "pub struct Y; use super::super::a;"},
         ["in crate: crate::a <-> crate::b <-> crate::f"]),
        # A folder's facade re-exports are no use; its code using a child that uses it is.
        ({"lib.rs": lib, "a.rs": "", "b.rs": "", "f/mod.rs": "mod g;\nmod h;\npub use g::G;\npub struct F;",
          "f/g.rs": "use super::h::H; pub struct G;", "f/h.rs": "pub struct H; use super::F;"}, []),
        ({"lib.rs": lib, "a.rs": "", "b.rs": "", "f/mod.rs": "mod g;\npub struct F; fn x() { g::y() }",
          "f/g.rs": "use super::F; pub fn y() {}"}, ["in crate::f: crate::f <-> crate::f::g"]),
        # Strings, comments and test modules' `super`.
        ({"lib.rs": lib, "a.rs": "use crate::b::X; // crate::b\nmod tests { use super::*; }",
          "b.rs": "pub struct X; const S: &str = \"crate::a::Y\";", "f/mod.rs": ""}, []),
    ]
    for files, expected in cases:
        found = crate(files)
        assert found == expected, f"{files}: found {found}, expected {expected}"
    print(f"self-test: {len(cases)} crates, every cycle found and no other")


def main():
    if "--self-test" in sys.argv[1:]:
        self_test()
        return 0
    allowed = [set(a.split("=", 1)[1].split(",")) for a in sys.argv[1:] if a.startswith("--allow=")]
    args = [a for a in sys.argv[1:] if a != "-v" and not a.startswith("--allow=")]
    verbose = "-v" in sys.argv[1:]
    if not args:
        print(__doc__)
        return 2
    failed = False
    for src in args:
        crate, problems, edges = check(src, verbose)
        known = [p for p in problems if set(p[0].split(": ", 1)[1].split(" <-> ")) in allowed]
        for text, _ in known:
            print(f"{src}: known cycle, allowed by --allow: {text}")
        problems = [p for p in problems if p not in known]
        if problems:
            failed = True
            print(f"{src}: import cycles:")
            for text, making in problems:
                print(f"  {text}")
                # The imports that make it, to find the `use` to move.
                for a, b in making:
                    print(f"    {name(a)} -> {name(b)}")
        else:
            other = " other" if known else ""
            print(f"{src}: {len(crate.modules)} modules, {len(edges)} imports between them, no{other} cycle")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
