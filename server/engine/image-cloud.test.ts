import { cloudForImage } from './image-cloud';
import type { CloudCredential } from '../../connectors/types';

const creds: CloudCredential[] = [
  { id: 'ost1', type: 'OpenStack', fields: { host: 'https://keystone.one.example:5000' } },
  { id: 'ost2', type: 'OpenStack', fields: { host: 'https://keystone.two.example:5000' } },
  { id: 'aws', type: 'EC2', fields: {} },
  { id: 'dummy', type: 'Dummy', fields: {} },
];

test('the image URL scheme (and an OpenStack host) chooses the credential, as IM does', () => {
  expect(cloudForImage('ost://keystone.two.example/img-1', creds)?.id).toBe('ost2');
  expect(cloudForImage('ost://keystone.one.example:5000/img-1', creds)?.id).toBe('ost1');
  expect(cloudForImage('ost://elsewhere/img-1', creds)?.id).toBe('ost1');
  expect(cloudForImage('aws://us-east-1/ami-123', creds)?.id).toBe('aws');
  expect(cloudForImage('dummy://x/y', creds)?.id).toBe('dummy');
  expect(cloudForImage('one://ramses.i3m.upv.es/1452', creds)?.id).toBe('dummy'); // no OpenNebula line: Dummy takes it
  expect(cloudForImage('one://ramses.i3m.upv.es/1452', creds.slice(0, 3))).toBeUndefined();
  expect(cloudForImage('ami-123', creds)).toBeUndefined();
  expect(cloudForImage(undefined, creds)).toBeUndefined();
});

test('clouds are tried in the header\'s order: a Dummy line before the others takes any image (IM\'s Dummy connector accepts every system)', () => {
  const dummyFirst = [creds[3], ...creds.slice(0, 3)];
  expect(cloudForImage('ost://keystone.two.example/img-1', dummyFirst)?.id).toBe('dummy');
  expect(cloudForImage('aws://us-east-1/ami-123', dummyFirst)?.id).toBe('dummy');
  expect(cloudForImage('aws://us-east-1/ami-123', [creds[3], creds[2]])?.id).toBe('dummy');
  expect(cloudForImage('one://ramses.i3m.upv.es/1452', dummyFirst)?.id).toBe('dummy');
});
