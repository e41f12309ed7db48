import { type Command, Option } from 'commander';
import type { Mapping, ParkedEvent } from '../api';
import { printJson } from '../output';
import { givenFilters, listCommand, targetOf } from './common';

const ENTITIES = ['property', 'roomType', 'ratePlan'] as const;

export function registerMappings(program: Command): void {
  const mappings = program
    .command('mappings')
    .description("Id mappings: a provider's external ids to internal property, room type and rate plan ids");

  listCommand<Mapping, { scope?: string; entity?: string }>(mappings, {
    description: 'Stored mappings',
    filters: (list) =>
      list
        .option('--scope <scope>', 'a source id, or * for the mappings every source shares')
        .addOption(new Option('--entity <entity>', 'one kind of id').choices(ENTITIES)),
    fetch: (api, flags, page) => api.listMappings({ ...page, ...givenFilters(flags, ['scope', 'entity']) }),
    columns: [
      ['SCOPE', (m) => m.scope],
      ['ENTITY', (m) => m.entity],
      ['EXTERNAL', (m) => m.externalId],
      ['INTERNAL', (m) => m.internalId],
      ['PROPERTY', (m) => m.propertyId],
    ],
    empty: 'No mappings match.',
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
  listCommand<ParkedEvent>(review, {
    description: 'Parked events and the mapping each waits for',
    fetch: (api, _flags, page) => api.listReview(page),
    columns: [
      ['PARKED', (p) => p.parkedAt],
      ['EVENT', (p) => p.eventId],
      ['SOURCE', (p) => p.sourceId],
      ['TYPE', (p) => p.type],
      ['WAITING FOR', (p) => p.waitingFor],
      ['REASON', (p) => p.reason],
    ],
    empty: 'No parked events.',
  });
}
