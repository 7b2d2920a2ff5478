import type { Command } from 'commander';
import { adminClient, type GlobalOptions } from '../context.js';
import { printJson, printList, say } from '../output.js';

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `latchkey webhooks add|list|deliveries|retry|remove`: one API call each. */
export function webhooksCommand(program: Command, globals: () => GlobalOptions): void {
  const webhooks = program.command('webhooks').description('webhook subscriptions for connection events');

  webhooks
    .command('add <url>')
    .description('subscribe a URL to events (prints the signing secret once)')
    .option('--event <type>', 'event type, repeatable (default: all)', collect, [])
    .action(async (url: string, options: { event: string[] }) => {
      const created = await adminClient(globals()).webhooks.create({ url, events: options.event.length > 0 ? options.event : ['*'] });
      if (globals().json) return printJson(created);
      say`webhook ${created.id} for ${created.events.join(', ')}\nsigning secret (shown once; verify Latchkey-Signature with it):\n  ${created.secret}\n`;
    });

  webhooks
    .command('list')
    .description('list webhooks (never their secrets)')
    .action(async () => {
      const list = adminClient(globals()).webhooks.iterate();
      await printList(globals().json === true, list, ['id', 'url', 'events', 'created'], (w) => [w.id, w.url, w.events.join(','), w.createdAt]);
    });

  webhooks
    .command('deliveries <id>')
    .description('recent deliveries of one webhook, with attempts and the last error')
    .action(async (id: string) => {
      const list = adminClient(globals()).webhooks.iterateDeliveries(id);
      await printList(globals().json === true, list, ['delivery', 'status', 'attempts', 'next attempt', 'last error'], (d) => [
        d.id,
        d.status,
        d.attempts,
        d.nextAttemptAt,
        d.lastError,
      ]);
    });

  webhooks
    .command('retry <webhook-id> <delivery-id>')
    .description('send a pending delivery again now instead of waiting for its next attempt')
    .action(async (webhookId: string, deliveryId: string) => {
      const delivery = await adminClient(globals()).webhooks.retry(webhookId, deliveryId);
      if (globals().json) return printJson(delivery);
      say`delivery ${delivery.id} is due now (attempts so far: ${delivery.attempts})\n`;
    });

  webhooks
    .command('remove <id>')
    .alias('rm')
    .description('delete a webhook and its undelivered deliveries')
    .action(async (id: string) => {
      const result = await adminClient(globals()).webhooks.remove(id);
      if (globals().json) return printJson(result);
      say`webhook ${id} deleted\n`;
    });
}
