"""import-linter contract type `acyclic_modules`: no import cycle among the project's modules.

`make check` runs `lint-imports` with the contracts of pyproject.toml ([tool.importlinter]); this
module is named there under `contract_types` (lint-imports puts the working directory on the path).

The built-in types cannot say "no circle anywhere" for this project: its apps are separate root
packages (tenants, distributors, ...), so `acyclic_siblings` sees the modules inside one app only,
and a `layers` contract only orders the modules it lists. This contract takes every module of the
given packages and every import between them that grimp reads (function-local imports too: a
circle held apart by an import inside a function is still a circle) and fails on each strongly
connected group of two or more modules, printing the imports that close it.

Domain rules: none (code shape: CONVENTIONS "Layers (one direction only)"; issue 12, item 7).
"""
from __future__ import annotations

from importlinter import Contract, ContractCheck, fields, output


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of two or more modules of the directed graph `edges`
    ({module: modules it imports}), each sorted, sorted by their first module (Tarjan's algorithm,
    iterative: no recursion limit whatever the graph's depth)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(edges):
        if root in index:
            continue
        work = [(root, iter(sorted(edges.get(root, ()))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, successors = work[-1]
            advanced = False
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = counter
                    counter += 1
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(sorted(edges.get(succ, ())))))
                    advanced = True
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                group = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    group.append(member)
                    if member == node:
                        break
                if len(group) > 1:
                    found.append(sorted(group))
    return sorted(found)


class AcyclicModulesContract(Contract):
    """No import cycle among the modules of `packages` (root packages; all of them when omitted).

    Configuration: `packages` (optional list of root package names)."""

    type_name = "acyclic_modules"

    packages = fields.ListField(subfield=fields.StringField(), required=False)

    def check(self, graph, verbose: bool) -> ContractCheck:
        roots = list(self.packages or ()) or sorted({m.split(".")[0] for m in graph.modules})
        modules = {m for m in graph.modules if m.split(".")[0] in roots}
        edges = {m: graph.find_modules_directly_imported_by(m) & modules for m in modules}
        groups = cycles(edges)
        output.verbose_print(verbose, f"{len(modules)} modules of {', '.join(roots)}: {len(groups)} cycle(s).")
        details = []
        for group in groups:
            members = set(group)
            imports = []
            for importer in group:
                for imported in sorted(edges[importer] & members):
                    for d in graph.get_import_details(importer=importer, imported=imported):
                        imports.append(f"{importer}:{d['line_number']}: {d['line_contents']}  (-> {imported})")
            details.append({"modules": group, "imports": imports})
        return ContractCheck(kept=not groups, metadata={"cycles": details})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for cycle in check.metadata["cycles"]:
            output.print_error(f"These modules import each other in a circle: {', '.join(cycle['modules'])}", bold=True)
            output.new_line()
            for line in cycle["imports"]:
                output.indent_cursor()
                output.print_error(line)
            output.new_line()
