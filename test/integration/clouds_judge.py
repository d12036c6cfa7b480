#!/usr/bin/python3
"""The simulator calls behind GET /clouds/{id}/images|quotas, judged by clients nobody here wrote:
openstacksdk parses Nova's quota-set detail and Neutron's quota details, boto3 reads
DescribeAccountAttributes and DescribeImages with IM's filters. Prints one JSON line of what the
clients read (the test compares it with what tosca-im answers); exits non-zero on any failure.

usage: clouds_judge.py openstack AUTH_URL | clouds_judge.py ec2 ENDPOINT_URL
"""
import json
import sys


def openstack_side(auth_url):
    import openstack
    from openstack.compute.v2 import quota_set

    conn = openstack.connect(auth_url=auth_url, username="demo", password="secret", project_name="demo",
                             user_domain_name="Default", project_domain_name="Default",
                             load_yaml_config=False, load_envvars=False)
    pid = conn.current_project_id
    # Nova's detail form ({"in_use", "limit", "reserved"} per resource), read by openstacksdk's own parser.
    qs = quota_set.QuotaSet(project_id=pid).fetch(conn.compute, base_path="/os-quota-sets/%(project_id)s/detail")
    net = conn.network.get_quota(pid, details=True)
    images = [{"id": i.id, "name": i.name} for i in conn.image.images()]
    return {
        "cores": {"used": qs.usage["cores"] + qs.reservation["cores"], "limit": qs.cores},
        "ram": {"used": (qs.usage["ram"] + qs.reservation["ram"]) / 1024, "limit": qs.ram / 1024},
        "instances": {"used": qs.usage["instances"] + qs.reservation["instances"], "limit": qs.instances},
        "floating_ips": {"used": net.floating_ips["used"] + net.floating_ips["reserved"], "limit": net.floating_ips["limit"]},
        "security_groups": {"used": net.security_groups["used"] + net.security_groups["reserved"], "limit": net.security_groups["limit"]},
        "images": images,
    }


def ec2_side(url):
    import boto3

    ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1",
                       aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="SECRETEXAMPLE")
    attrs = ec2.describe_account_attributes(AttributeNames=["max-instances", "vpc-max-elastic-ips"])["AccountAttributes"]
    limits = {a["AttributeName"]: int(a["AttributeValues"][0]["AttributeValue"]) for a in attrs}
    filters = [{"Name": k, "Values": [v]} for k, v in {
        "architecture": "x86_64", "image-type": "machine", "virtualization-type": "hvm",
        "state": "available", "root-device-type": "ebs"}.items()]
    images = ec2.describe_images(Owners=["self", "aws-marketplace"], Filters=filters)["Images"]
    return {"limits": limits, "images": [{"id": i["ImageId"], "name": i["Name"]} for i in images]}


if __name__ == "__main__":
    side, url = sys.argv[1], sys.argv[2]
    print(json.dumps(openstack_side(url) if side == "openstack" else ec2_side(url)))
