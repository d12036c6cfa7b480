/** An EC2 API error as the Query protocol reports it: a code, a message and an HTTP status. */
export class Ec2SimError extends Error {
  constructor(readonly code: string, message: string, readonly status = 400) {
    super(message);
    this.name = 'Ec2SimError';
  }
}

export const notFound = (code: string, message: string) => new Ec2SimError(code, message, 400);
export const missing = (name: string) =>
  new Ec2SimError('MissingParameter', `The request must contain the parameter ${name}`);
export const invalidValue = (name: string, value: string, why = '') =>
  new Ec2SimError('InvalidParameterValue', `Invalid value '${value}' for ${name}.${why ? ' ' + why : ''}`);
