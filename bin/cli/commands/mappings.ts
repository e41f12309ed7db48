import { type Command, Option } from 'commander';
import { collectPages, type Mapping, type ParkedEvent } from '../api';
import { printJson, printPage } from '../output';
import { type ListFlags, listOptions, pageFlags, targetOf } from './common';

const ENTITIES = ['property', 'roomType', 'ratePlan'] as const;

export function registerMappings(program: Command): void {
  const mappings = program
    .command('mappings')
    .description("Id mappings: a provider's external ids to internal property, room type and rate plan ids");

  listOptions(
    mappings
      .command('list')
      .description('Stored mappings')
      .option('--scope <scope>', 'a source id, or * for the mappings every source shares')
      .addOption(new Option('--entity <entity>', 'one kind of id').choices(ENTITIES)),
  ).action(async (flags: ListFlags & { scope?: string; entity?: string }, command: Command) => {
    const { api } = await targetOf(command);
    const page = await collectPages(
      (request) =>
        api.listMappings({
          ...request,
          ...(flags.scope ? { scope: flags.scope } : {}),
          ...(flags.entity ? { entity: flags.entity } : {}),
        }),
      pageFlags(flags),
    );
    printPage<Mapping>(
      page,
      [
        ['SCOPE', (m) => m.scope],
        ['ENTITY', (m) => m.entity],
        ['EXTERNAL', (m) => m.externalId],
        ['INTERNAL', (m) => m.internalId],
        ['PROPERTY', (m) => m.propertyId],
      ],
      { json: flags.json ?? false, empty: 'No mappings match.' },
    );
  });

  mappings
    .command('put')
    .description(
      "Map a provider's external id to an internal id, then re-queue the events parked for want of it",
    )
    .argument('<scope>', 'a source id, or * for a mapping every source shares')
    .argument('<entity>', 'property, roomType or ratePlan')
    .argument('<externalId>', 'the id the provider sends')
    .argument('<internalId>', 'the internal id it stands for')
    .option(
      '-p, --property <propertyId>',
      'for a room type whose events name no property: its internal property',
    )
    .option('--json', 'print the answer as JSON')
    .action(
      async (
        scope: string,
        entity: string,
        externalId: string,
        internalId: string,
        flags: { property?: string; json?: boolean },
        command: Command,
      ) => {
        const { api } = await targetOf(command);
        const answer = await api.putMapping(
          { scope, entity, externalId },
          { internalId, ...(flags.property ? { propertyId: flags.property } : {}) },
        );
        if (flags.json) {
          printJson(answer);
          return;
        }
        console.log(
          `Mapped ${entity} ${JSON.stringify(externalId)} (scope ${scope}) to ${JSON.stringify(internalId)}; ` +
            `${answer.released} parked event(s) queued again.`,
        );
      },
    );

  const review = program
    .command('review')
    .description('Events parked for want of a mapping; `mappings put` releases them');
  listOptions(review.command('list').description('Parked events and the mapping each waits for')).action(
    async (flags: ListFlags, command: Command) => {
      const { api } = await targetOf(command);
      const page = await collectPages((request) => api.listReview(request), pageFlags(flags));
      printPage<ParkedEvent>(
        page,
        [
          ['PARKED', (p) => p.parkedAt],
          ['EVENT', (p) => p.eventId],
          ['SOURCE', (p) => p.sourceId],
          ['TYPE', (p) => p.type],
          ['WAITING FOR', (p) => p.waitingFor],
          ['REASON', (p) => p.reason],
        ],
        { json: flags.json ?? false, empty: 'No parked events.' },
      );
    },
  );
}
