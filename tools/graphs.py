"""Graph algorithms the build's checkers share (tools/kstack.py, tools/layering.py)."""


def strongly_connected(nodes, successors):
    """Strongly connected components of a directed graph.

    nodes: the vertices, in the order the search starts from them; successors(v): the
    vertices v has an edge to (any iterable; vertices outside `nodes` are ignored).
    Tarjan's algorithm with an explicit stack, so a deep graph cannot exhaust Python's
    recursion limit; successors are visited in sorted order, so the result is the same
    from run to run. Returns every component, singletons included, each sorted, in the
    order the search completes them.
    """
    members = set(nodes)
    index, low, on, stack, comps = {}, {}, set(), [], []
    counter = 0

    def enter(v):
        nonlocal counter
        index[v] = low[v] = counter
        counter += 1
        stack.append(v)
        on.add(v)
        return (v, iter(sorted(w for w in successors(v) if w in members)))

    for start in nodes:
        if start in index:
            continue
        work = [enter(start)]
        while work:
            v, it = work[-1]
            advanced = False
            for w in it:
                if w not in index:
                    work.append(enter(w))
                    advanced = True
                    break
                if w in on:
                    low[v] = min(low[v], index[w])
            if advanced:
                continue
            work.pop()
            if work:
                u = work[-1][0]
                low[u] = min(low[u], low[v])
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on.discard(w)
                    comp.append(w)
                    if w == v:
                        break
                comps.append(sorted(comp))
    return comps
