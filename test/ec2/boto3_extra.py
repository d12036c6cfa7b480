#!/usr/bin/python3
"""Fidelity of the EC2 simulator beyond ec2_flow.py, judged by Debian's boto3: the calls the
tosca-im connector relies on (key pairs, instance types with paging, idempotent RunInstances,
filters, power waiters, tags, default VPC, limits). The simulator must run with limits
instances=4, addresses=1. Exit 0 when every check holds."""
import base64
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBlVd0Pi3qIhPNOOZMj1kaOtpc0ryyaH2cNRgZV5CuLd extra@probe"


def check(cond, msg):
    if not cond:
        raise AssertionError(msg)


def code_of(fn, **kw):
    try:
        fn(**kw)
    except ClientError as e:
        return e.response["Error"]["Code"]
    return None


def main(url):
    ec2 = boto3.client("ec2", endpoint_url=url, region_name="us-east-1", aws_access_key_id="AKIDEXAMPLE",
                       aws_secret_access_key="SECRETEXAMPLE", config=Config(retries={"max_attempts": 1, "mode": "standard"}))
    w = {"Delay": 1, "MaxAttempts": 20}

    check([r["RegionName"] for r in ec2.describe_regions()["Regions"]] == ["us-east-1"], "regions")
    check(ec2.describe_availability_zones()["AvailabilityZones"][0]["State"] == "available", "zones")
    vpc = ec2.describe_vpcs(Filters=[{"Name": "isDefault", "Values": ["true"]}])["Vpcs"]
    check(len(vpc) == 1 and vpc[0]["IsDefault"] is True, "default vpc: %r" % vpc)
    sub = ec2.describe_subnets(Filters=[{"Name": "vpc-id", "Values": [vpc[0]["VpcId"]]}])["Subnets"]
    check(len(sub) == 1 and sub[0]["DefaultForAz"] is True, "default subnet: %r" % sub)

    types = [t for page in ec2.get_paginator("describe_instance_types").paginate(PaginationConfig={"PageSize": 5})
             for t in page["InstanceTypes"]]
    check(len(types) >= 10 and all(t["VCpuInfo"]["DefaultVCpus"] > 0 and t["MemoryInfo"]["SizeInMiB"] > 0 for t in types),
          "instance types: %r" % types[:2])
    check(len({t["InstanceType"] for t in types}) == len(types), "paging repeated types")

    r = ec2.import_key_pair(KeyName="extra-key", PublicKeyMaterial=KEY.encode(),
                            TagSpecifications=[{"ResourceType": "key-pair", "Tags": [{"Key": "im_infrastructure_id", "Value": "x1"}]}])
    check(r["KeyName"] == "extra-key" and r["KeyFingerprint"], "import: %r" % r)
    check(code_of(ec2.import_key_pair, KeyName="extra-key", PublicKeyMaterial=KEY.encode()) == "InvalidKeyPair.Duplicate", "dup key")
    check(code_of(ec2.import_key_pair, KeyName="bad", PublicKeyMaterial=b"nonsense") == "InvalidKey.Format", "bad key format")
    keys = ec2.describe_key_pairs(Filters=[{"Name": "tag:im_infrastructure_id", "Values": ["x1"]}])["KeyPairs"]
    check([k["KeyName"] for k in keys] == ["extra-key"], "key tag filter: %r" % keys)

    gid = ec2.create_security_group(GroupName="extra-sg", Description="d",
                                    TagSpecifications=[{"ResourceType": "security-group", "Tags": [{"Key": "k", "Value": "v"}]}])["GroupId"]
    ec2.authorize_security_group_ingress(GroupId=gid, IpPermissions=[
        {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": gid}]},
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}])
    check(code_of(ec2.authorize_security_group_ingress, GroupId=gid, IpPermissions=[
        {"IpProtocol": "tcp", "FromPort": 80, "ToPort": 80, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]) == "InvalidPermission.Duplicate", "dup rule")
    check(code_of(ec2.create_security_group, GroupName="extra-sg", Description="d") == "InvalidGroup.Duplicate", "dup group")
    g = ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["extra-sg"]}])["SecurityGroups"]
    check(len(g) == 1 and len(g[0]["IpPermissions"]) == 2 and g[0]["Tags"] == [{"Key": "k", "Value": "v"}], "group: %r" % g)

    image = ec2.describe_images(Owners=["self"])["Images"][0]["ImageId"]
    args = dict(ImageId=image, MinCount=2, MaxCount=2, InstanceType="t3.micro", KeyName="extra-key", SecurityGroupIds=[gid],
                ClientToken="extra-token-1", UserData="#cloud-config\n",
                TagSpecifications=[{"ResourceType": "instance", "Tags": [{"Key": "im_infrastructure_id", "Value": "x1"}]}])
    first = [i["InstanceId"] for i in ec2.run_instances(**args)["Instances"]]
    again = [i["InstanceId"] for i in ec2.run_instances(**args)["Instances"]]
    check(len(first) == 2 and first == again, "ClientToken not idempotent: %r %r" % (first, again))
    check(code_of(ec2.run_instances, **dict(args, InstanceType="t3.small")) == "IdempotentParameterMismatch", "token mismatch")
    check(code_of(ec2.run_instances, **dict(args, ClientToken="t2", KeyName="nokey")) == "InvalidKeyPair.NotFound", "unknown key")
    check(code_of(ec2.run_instances, **dict(args, ClientToken="t3", MinCount=3, MaxCount=3)) == "InstanceLimitExceeded", "instance limit")
    check(code_of(ec2.delete_security_group, GroupId=gid) == "DependencyViolation", "group in use")

    ec2.get_waiter("instance_running").wait(InstanceIds=first, WaiterConfig=w)
    found = ec2.describe_instances(Filters=[{"Name": "tag:im_infrastructure_id", "Values": ["x1"]},
                                            {"Name": "instance-state-name", "Values": ["running"]}])["Reservations"]
    check(sorted(i["InstanceId"] for r in found for i in r["Instances"]) == sorted(first), "filters: %r" % found)
    inst = found[0]["Instances"][0]
    check(inst["InstanceType"] == "t3.micro" and inst["KeyName"] == "extra-key" and inst["SubnetId"] == sub[0]["SubnetId"], "echo")
    tags = ec2.describe_tags(Filters=[{"Name": "resource-id", "Values": [first[0]]}])["Tags"]
    check(tags == [{"ResourceId": first[0], "ResourceType": "instance", "Key": "im_infrastructure_id", "Value": "x1"}], "tags: %r" % tags)

    ec2.stop_instances(InstanceIds=[first[0]])
    ec2.get_waiter("instance_stopped").wait(InstanceIds=[first[0]], WaiterConfig=w)
    ec2.start_instances(InstanceIds=[first[0]])
    ec2.get_waiter("instance_running").wait(InstanceIds=[first[0]], WaiterConfig=w)
    ec2.reboot_instances(InstanceIds=[first[0]])

    a = ec2.allocate_address(Domain="vpc", TagSpecifications=[{"ResourceType": "elastic-ip", "Tags": [{"Key": "im_allocated_by", "Value": "im:x1"}]}])
    check(code_of(ec2.allocate_address, Domain="vpc") == "AddressLimitExceeded", "address limit")
    ec2.associate_address(InstanceId=first[0], AllocationId=a["AllocationId"])
    check(code_of(ec2.associate_address, InstanceId=first[1], AllocationId=a["AllocationId"], AllowReassociation=False)
          == "Resource.AlreadyAssociated", "reassociation")
    free = ec2.describe_addresses(Filters=[{"Name": "tag:im_allocated_by", "Values": ["im:x1"]}])["Addresses"]
    check(len(free) == 1 and free[0]["InstanceId"] == first[0], "address filter: %r" % free)
    check(code_of(ec2.release_address, AllocationId=a["AllocationId"]) == "InvalidIPAddress.InUse", "release in use")

    ec2.terminate_instances(InstanceIds=first)
    ec2.get_waiter("instance_terminated").wait(InstanceIds=first, WaiterConfig=w)
    left = ec2.describe_addresses(AllocationIds=[a["AllocationId"]])["Addresses"][0]
    check("InstanceId" not in left and "AssociationId" not in left, "terminate keeps the address, disassociated: %r" % left)
    ec2.release_address(AllocationId=a["AllocationId"])
    ec2.delete_security_group(GroupId=gid)
    ec2.delete_key_pair(KeyName="extra-key")
    ec2.delete_key_pair(KeyName="extra-key")  # idempotent, as on AWS
    check(code_of(ec2.describe_key_pairs, KeyNames=["extra-key"]) == "InvalidKeyPair.NotFound", "key gone")
    print("ec2 extra: OK", flush=True)


if __name__ == "__main__":
    try:
        main(sys.argv[1])
    except Exception as exc:  # noqa: BLE001 - report and fail
        print("ec2 extra: FAILED: %s: %s" % (type(exc).__name__, exc), file=sys.stderr)
        sys.exit(1)
