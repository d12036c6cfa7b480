/** What every action handler receives, and the shape of the handler table. */
import type { Ec2Model } from '../model';
import type { Params } from '../params';
import type { XmlValue } from '../xml';

export interface ActionContext {
  model: Ec2Model;
  params: Params;
  /** The simulator's base URL (for DescribeRegions endpoints). */
  url: string;
  /** Injected behaviour of the resources this call creates. */
  inject?: { bootFailure?: boolean };
}

export type ActionHandler = (ctx: ActionContext) => Record<string, XmlValue>;
export type ActionTable = Record<string, ActionHandler>;

/** MaxResults/NextToken paging over an already filtered list (NextToken is the next offset). */
export function paginate<T>(items: T[], ctx: ActionContext): { page: T[]; nextToken?: string } {
  const max = ctx.params.get('MaxResults');
  if (max === undefined) return { page: items };
  const size = Math.max(1, Number.parseInt(max, 10) || 1000);
  const start = Number.parseInt(ctx.params.get('NextToken') ?? '0', 10) || 0;
  const page = items.slice(start, start + size);
  return { page, nextToken: start + size < items.length ? String(start + size) : undefined };
}
