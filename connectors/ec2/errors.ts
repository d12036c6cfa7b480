/** Turning EC2 failures into the server's CloudError, with the status and wording the IM API shows. */
import { CloudError } from '../../lib/errors';
import { HttpTransportError } from '../shared/http';
import { PollTimeoutError } from '../shared/poll';
import { Ec2ApiError } from './client';

const AUTH = new Set(['AuthFailure', 'SignatureDoesNotMatch', 'InvalidClientTokenId', 'UnrecognizedClientException', 'MissingAuthenticationToken', 'IncompleteSignature']);
const QUOTA = new Set([
  'InstanceLimitExceeded', 'AddressLimitExceeded', 'VcpuLimitExceeded', 'ResourceLimitExceeded',
  'SecurityGroupLimitExceeded', 'RulesPerSecurityGroupLimitExceeded', 'KeyPairLimitExceeded', 'VolumeLimitExceeded',
]);

/** The IM API status of a cloud failure: 401 bad keys, 403 denied or over quota, 400 bad request data, 502 otherwise. */
export function toCloudError(err: unknown, cloudLabel: string): Error {
  if (err instanceof CloudError) return err;
  if (err instanceof Ec2ApiError) {
    if (AUTH.has(err.code) || err.code.startsWith('AuthFailure')) {
      return new CloudError(
        `${cloudLabel} rejected the credentials (${err.code}: ${err.message}); check the access key (username) and secret key (password)`,
        401,
        err.code,
      );
    }
    if (QUOTA.has(err.code)) return new CloudError(`Quota exceeded in ${cloudLabel} (${err.code}): ${err.message}`, 403, err.code);
    if (err.code === 'UnauthorizedOperation' || err.code === 'OptInRequired' || err.code === 'Blocked') {
      return new CloudError(`${cloudLabel} denied ${err.action} (${err.code}): ${err.message}`, 403, err.code);
    }
    if (err.status >= 400 && err.status < 500) {
      return new CloudError(`${cloudLabel} refused ${err.action} (${err.code}): ${err.message}`, 400, err.code);
    }
    return new CloudError(`${cloudLabel} failed ${err.action} (${err.code}): ${err.message}`, 502, err.code);
  }
  if (err instanceof HttpTransportError) return new CloudError(`${cloudLabel} did not answer: ${err.message}`, 502, 'NoAnswer');
  if (err instanceof PollTimeoutError) return new CloudError(`${cloudLabel}: ${err.message}`, 504, 'Timeout');
  return err instanceof Error ? err : new Error(String(err));
}
