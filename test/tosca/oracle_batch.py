#!/usr/bin/python3
"""Run OpenStack's tosca-parser (through ../shared/tools/tosca-oracle.py's own helpers) on many templates in
one process: starting Python and importing tosca-parser once per template costs more than parsing.

  /usr/bin/python3 oracle_batch.py --oracle TOOL.py --map import-map.json [--repeat N] TEMPLATE...

Prints one JSON object per line: {"template": path, "result": <what tosca-oracle.py prints>, "ms": time}
(with --repeat N, "ms" is the median of N parses)."""
import argparse, importlib.util, io, json, os, statistics, sys, tempfile, time, contextlib


def load_oracle(path):
    spec = importlib.util.spec_from_file_location('tosca_oracle', path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


SCALARS = (str, int, float, bool)


def resolved(v, topo, node, fn):
    """A property value with what tosca-parser can compute computed (get_input, get_property, concat and token
    over known values) and run-time references kept as {"$ref": name, "args": [...]}, the node of a
    get_attribute resolved from SELF/HOST like ours; tosca-parser itself leaves nested functions raw."""
    if isinstance(v, dict) and len(v) == 1 and 'get_attribute' in v:
        # nested (raw) get_attribute: tosca-parser never validated it, so don't make it validate now
        args = list(v['get_attribute'])
        if args and args[0] == 'SELF':
            args[0] = node.name
        elif args and args[0] == 'HOST':
            try:
                args[0] = fn.get_function(topo, node, v).get_referenced_node_template().name
            except Exception:
                pass
        return {'$ref': 'get_attribute', 'args': args}
    if isinstance(v, dict) and fn.is_function(v):
        return resolved(fn.get_function(topo, node, v), topo, node, fn)
    if isinstance(v, fn.GetInput) or isinstance(v, fn.GetProperty):
        return resolved(v.result(), topo, node, fn)
    if isinstance(v, fn.Concat):
        args = [resolved(a, topo, node, fn) for a in v.args]
        if all(isinstance(a, SCALARS) for a in args):
            return ''.join(a if isinstance(a, str) else json.dumps(a) for a in args)
        return {'$ref': 'concat', 'args': args}
    if isinstance(v, fn.Token):
        args = [resolved(a, topo, node, fn) for a in v.args]
        if len(args) == 3 and isinstance(args[0], str):
            return args[0].split(str(args[1]))[int(args[2])]
        return {'$ref': 'token', 'args': args}
    if isinstance(v, fn.GetAttribute):
        args = list(v.args)
        if args[0] in ('SELF', 'HOST'):
            try:
                args[0] = v.get_referenced_node_template().name
            except Exception:
                pass
        return {'$ref': 'get_attribute', 'args': args}
    if isinstance(v, fn.Function):
        return {'$ref': v.name, 'args': [resolved(a, topo, node, fn) for a in v.args]}
    if isinstance(v, dict):
        return {k: resolved(x, topo, node, fn) for k, x in v.items()}
    if isinstance(v, list):
        return [resolved(x, topo, node, fn) for x in v]
    return v if isinstance(v, SCALARS) or v is None else str(v)


def resolved_properties(n, topo, fn):
    out = {}
    for p in n.get_properties_objects():
        try:
            out[p.name] = resolved(p.value, topo, n, fn)
        except Exception as e:  # tosca-parser cannot compute it: say so instead of guessing
            out[p.name] = {'$unresolved': f'{type(e).__name__}: {e}'[:200]}
    return out


def parse_one(oracle, src, rules, params):
    """The body of tosca-oracle.py's main(), returning its JSON object instead of printing it."""
    text = oracle.localise(open(src).read(), rules)
    with tempfile.NamedTemporaryFile('w', prefix='.oracle-', suffix='.yaml', dir=os.path.dirname(src), delete=False) as f:
        f.write(text)
        tmp = f.name
    try:
        # tosca-parser prints warnings on stdout; keep our stdout one JSON object per line
        with contextlib.redirect_stdout(io.StringIO()):
            t = oracle.ToscaTemplate(tmp, parsed_params=params or None, a_file=True)
        topo = t.topology_template
        from toscaparser import functions as fn
        return {'ok': True,
                'resolved': {n.name: resolved_properties(n, topo, fn)
                             for n in getattr(t, 'nodetemplates', None) or []},
                'inputs': sorted(i.name for i in getattr(t, 'inputs', None) or []),
                'nodes': [{'name': n.name, 'type': n.type,
                           'properties': {p.name: oracle.value(p.value) for p in n.get_properties_objects()}}
                          for n in getattr(t, 'nodetemplates', None) or []],
                'outputs': sorted(o.name for o in getattr(t, 'outputs', None) or []),
                'policies': [{'name': p.name, 'type': p.type} for p in (getattr(topo, 'policies', None) or [])]}
    except Exception as e:
        msg = str(e).replace(tmp, src).replace(os.path.basename(tmp), os.path.basename(src))
        errs = [l.strip() for l in msg.splitlines() if l.startswith('\t') and not l.startswith('\t\t')]
        return {'ok': False, 'error': '; '.join(errs) if errs else f'{type(e).__name__}: {msg}'[:2000]}
    finally:
        os.unlink(tmp)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--oracle', required=True)
    ap.add_argument('--map', required=True)
    ap.add_argument('--repeat', type=int, default=1)
    ap.add_argument('templates', nargs='*')
    a = ap.parse_args()
    oracle = load_oracle(a.oracle)
    rules = oracle.load_map(a.map)
    for src in a.templates:
        src = os.path.abspath(src)
        times = []
        for _ in range(max(1, a.repeat)):
            t0 = time.perf_counter()
            result = parse_one(oracle, src, rules, {})
            times.append((time.perf_counter() - t0) * 1000)
        sys.stdout.write(json.dumps({'template': src, 'result': result, 'ms': statistics.median(times)},
                                    sort_keys=True, default=str) + '\n')
        sys.stdout.flush()
    return 0


if __name__ == '__main__':
    sys.exit(main())
