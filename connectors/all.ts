/** Imports every connector module so that each registers its cloud type. One line per cloud. */
import './dummy';
import './ec2';
import './openstack';
