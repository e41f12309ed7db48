import { type Command, Option } from 'commander';
import type { MappingView, ParkedEventView } from '../../../lambdas/read/wire';
import { MAPPING_ENTITIES } from '../../../lambdas/state/ports';
import type { CliSession } from '../io';
import { printJson } from '../output';
import { givenFilters, listCommand, targetCommand } from './common';

export function registerMappings(program: Command, cli: CliSession): void {
  const mappings = program
    .command('mappings')
    .description("Id mappings: a provider's external ids to internal property, room type and rate plan ids");

  listCommand<MappingView, { scope?: string; entity?: string }>(cli, mappings, {
    description:
      'Mappings stored at run time (not the seeds of the configuration file), property, room type then rate plan',
    filters: (list) =>
      list
        .option('--scope <scope>', 'a source id, or * for the mappings every source shares')
        .addOption(new Option('--entity <entity>', 'one kind of id').choices(MAPPING_ENTITIES)),
    fetch: (api, flags, page) => api.listMappings({ ...page, ...givenFilters(flags, ['scope', 'entity']) }),
    columns: ['scope', 'entity', 'externalId', 'internalId', 'propertyId'],
    empty: 'No mappings match.',
  });

  targetCommand<{ property?: string }>(cli, mappings, 'put', {
    description:
      "Map a provider's external id to an internal id, then re-queue the events parked for want of it",
    arguments: [
      ['<scope>', 'a source id, or * for a mapping every source shares'],
      ['<entity>', MAPPING_ENTITIES.join(', ')],
      ['<externalId>', 'the id the provider sends'],
      ['<internalId>', 'the internal id it stands for'],
    ],
    options: (put) =>
      put.option(
        '-p, --property <propertyId>',
        'for a room type whose events name no property: its internal property',
      ),
    json: 'print the answer as JSON',
    run: async ({ api }, flags, [scope = '', entity = '', externalId = '', internalId = '']) => {
      const answer = await api.putMapping(
        { scope, entity, externalId },
        { internalId, ...(flags.property ? { propertyId: flags.property } : {}) },
      );
      if (flags.json) printJson(cli, answer);
      else {
        cli.print(
          `Mapped ${entity} ${JSON.stringify(externalId)} (scope ${scope}) to ${JSON.stringify(internalId)}; ` +
            `${answer.released} parked event(s) queued again.`,
        );
      }
    },
  });

  const review = program
    .command('review')
    .description('Events parked for want of a mapping; `mappings put` releases them');
  listCommand<ParkedEventView>(cli, review, {
    description: 'Parked events and the mapping each waits for',
    fetch: (api, _flags, page) => api.listReview(page),
    columns: ['parkedAt', 'eventId', 'sourceId', 'type', 'waitingFor', 'reason'],
    empty: 'No parked events.',
  });
}
