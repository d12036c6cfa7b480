#!/usr/bin/python3
"""Admin-side moves on the judge cloud for the real-services suite (Debian's openstacksdk, cloud
judge-admin from OS_CLIENT_CONFIG_FILE). Prints one JSON line.

  admin.py quota KEY=VALUE...          demo's compute (instances, cores, ram) / network (floatingip) quotas
  admin.py big-flavors N               N public 8-vCPU/16 GB flavors whose ids sort before any UUID (Nova
                                       lists flavors by flavorid: the seeded m1.* go to a later page)
  admin.py page2-networks PAGE         shared networks "judge-extra-*" until both private and public are
                                       beyond the first PAGE networks demo lists (Neutron pages by id)
  admin.py drop-extras                 delete what big-flavors / page2-networks made
  admin.py agent-delete                delete the Open vSwitch agent row (every boot then fails)
  admin.py agent-present               whether the agent row exists
  admin.py appcred-create NAME         an application credential of demo (id, secret)
  admin.py appcred-delete ID           delete it
"""
import json
import sys

import openstack

a = openstack.connect(cloud='judge-admin')


def demo_project():
    return a.identity.find_project('demo', domain_id='default')


def quota(args):
    pid = demo_project().id
    compute, network = {}, {}
    for kv in args:
        k, v = kv.split('=')
        if v.startswith('+'):  # instances=+2: room for two more servers than demo has now
            d = openstack.connect(cloud='judge-demo')
            v = len(list(d.compute.servers())) + int(v[1:])
        (network if k in ('floatingip', 'floating_ips', 'port', 'security_group') else compute)[k] = int(v)
    if compute:
        a.set_compute_quotas(pid, **compute)
    if network:
        a.network.update_quota(pid, **network)
    return {'compute': compute, 'network': network}


def big_flavors(n):
    made = []
    for i in range(int(n)):
        fid = f'00-judge-big-{i}'
        if not a.compute.find_flavor(fid, ignore_missing=True):
            a.compute.create_flavor(id=fid, name=f'judge-big-{i}', vcpus=8, ram=16384, disk=160, is_public=True)
        made.append(fid)
    return {'flavors': made}


def page2_networks(page):
    page = int(page)
    d = openstack.connect(cloud='judge-demo')
    nets = {n.id: n.name for n in d.network.networks()}
    made = 0
    for _ in range(80):
        ids = sorted(nets)
        pos = {nets[i]: k for k, i in enumerate(ids)}
        if pos['private'] >= page and pos['public'] >= page:
            return {'networks': len(ids), 'private_at': pos['private'], 'public_at': pos['public'], 'made': made}
        n = a.network.create_network(name=f'judge-extra-{len(ids)}', is_shared=True)
        nets[n.id] = n.name
        made += 1
    raise SystemExit('could not push private/public beyond the first page')


def drop_extras():
    n = 0
    for net in list(a.network.networks()):
        if net.name.startswith('judge-extra-'):
            a.network.delete_network(net)
            n += 1
    f = 0
    for fl in list(a.compute.flavors(is_public=None)):
        if fl.id.startswith('00-judge-big-'):
            a.compute.delete_flavor(fl)
            f += 1
    return {'networks': n, 'flavors': f}


def agents():
    return [x for x in a.network.agents() if x.agent_type == 'Open vSwitch agent']


def agent_delete():
    ags = agents()
    for x in ags:
        a.network.delete_agent(x)
    return {'deleted': len(ags)}


def appcred_create(name):
    d = openstack.connect(cloud='judge-demo')
    c = d.identity.create_application_credential(user=d.current_user_id, name=name)
    return {'id': c.id, 'secret': c.secret}


def appcred_delete(cid):
    d = openstack.connect(cloud='judge-demo')
    d.identity.delete_application_credential(d.current_user_id, cid)
    return {'deleted': cid}


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    out = {
        'quota': lambda: quota(args),
        'big-flavors': lambda: big_flavors(args[0]),
        'page2-networks': lambda: page2_networks(args[0]),
        'drop-extras': drop_extras,
        'agent-delete': agent_delete,
        'agent-present': lambda: {'present': len(agents()) > 0},
        'appcred-create': lambda: appcred_create(args[0]),
        'appcred-delete': lambda: appcred_delete(args[0]),
    }[cmd]()
    print(json.dumps(out))


if __name__ == '__main__':
    main()
