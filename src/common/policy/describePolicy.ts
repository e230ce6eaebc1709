/** The effective policy in plain words, for "Hearth: Show Effective Policy". */
import type { EffectivePolicy } from './combinePolicies';
import { sourceName } from './decide';
import { DATA_CLASSES, LANES, POLICY_FILE } from './policySchema';

function money(n: number): string {
  return `$${n.toFixed(2)}`;
}

/**
 * Lines of Markdown describing `policy`: the switch, destinations, endpoints, data classes, the lane matrix,
 * never-sent files, redaction, consent, budgets, ledger, and what the repo asked for and did not get.
 */
export function describePolicy(policy: EffectivePolicy): string[] {
  const out: string[] = [];
  const repo = policy.repo;
  if (repo.status === 'invalid') {
    out.push(`**The repo policy is invalid: nothing leaves this machine until it is fixed.** ${repo.error.message}`, '');
  }
  out.push(
    `- **Repo policy:** ${repo.status === 'valid' ? `${POLICY_FILE}` : repo.status === 'none' ? `none (no ${POLICY_FILE}); your settings and Hearth's defaults apply` : `${POLICY_FILE} is invalid`}`,
    `- **Escalation:** ${policy.escalation.enabled ? 'on' : 'off'} — ${sourceName(policy.escalation.source, 'hearth.escalation.enabled')}`,
    `- **Destinations allowed:** ${policy.destinations.allowed.join(', ')}${policy.destinations.notAllowed.map((n) => `; not ${n.destination} — ${sourceName(n.by, 'hearth.escalation.allowedDestinations')}`).join('')}`,
  );
  out.push(
    policy.endpoints.length
      ? `- **Endpoints:** ${policy.endpoints.map((e) => `${e.id} (${e.destination}, ${e.provider}, ${e.model} at ${e.baseUrl}${e.priceInPerMTok !== undefined ? `, ${money(e.priceInPerMTok)}/${money(e.priceOutPerMTok ?? 0)} per million tokens in/out` : ''})`).join('; ')}`
      : '- **Endpoints:** none usable (add one to hearth.escalation.endpoints)',
  );
  const rules = policy.dataClasses.rules.map((r) => `${r.match.map((m) => `\`${m}\``).join(' or ')} → ${r.class}`);
  out.push(`- **Data classes** (first match wins): ${[...rules, `anything else → ${policy.dataClasses.default}`].join('; ')}`);
  out.push('', '| lane | ' + DATA_CLASSES.join(' | ') + ' |', '| --- |' + DATA_CLASSES.map(() => ' --- |').join(''));
  for (const lane of LANES) {
    const cells = DATA_CLASSES.map((c) => {
      const r = policy.lanes[lane][c];
      return `${r.destinations.length ? r.destinations.join(', ') : 'nowhere'}${r.source === 'repo' ? ' (repo)' : ''}`;
    });
    out.push(`| ${lane} | ${cells.join(' | ')} |`);
  }
  if (repo.status === 'invalid' || !policy.escalation.enabled) out.push('', '_While escalation is off or the policy invalid, chat and escalation send nothing off this machine, whatever the table says._');
  out.push('');
  const never = (source: 'settings' | 'repo') => policy.neverSend.filter((n) => n.source === source).map((n) => `\`${n.glob}\``);
  out.push(`- **Never sent off this machine:** ${[...never('settings').map((g) => `${g} (your settings)`), ...never('repo').map((g) => `${g} (repo)`)].join(', ') || 'no pattern'}`);
  const custom = policy.redactor.customPatterns ?? [];
  const disabled = policy.redactor.disabledCategories ?? [];
  out.push(
    `- **Redaction:** every built-in secret detector${disabled.length ? `; personal-data categories you switched off: ${disabled.join(', ')}` : ' and personal-data detector'}${custom.length ? `; plus the repo's patterns: ${custom.map((p) => `${p.name} (\`${String(p.regex)}\`)`).join(', ')}` : ''}`,
    `- **Consent:** ${policy.consent.mode === 'always' ? 'a warning to confirm before every escalation' : 'confirm once per destination per session'} — ${sourceName(policy.consent.source, 'hearth.escalation.consent')}`,
    `- **Budgets:** ${money(policy.budgets.perTaskUsd.value)} per task — ${sourceName(policy.budgets.perTaskUsd.source, 'hearth.escalation.budgetPerTaskUsd')}; ${money(policy.budgets.perMonthUsd.value)} per month — ${sourceName(policy.budgets.perMonthUsd.source, 'hearth.escalation.budgetPerMonthUsd')}`,
    `- **Ledger:** ${policy.ledger.path}, ${policy.ledger.includeText ? 'with prompt and answer text (the repo policy opts in)' : 'no code or prompt text'}`,
  );
  if (policy.refused.length) {
    out.push('', `**Refused from ${POLICY_FILE}** (a repo policy can only tighten your settings):`);
    for (const r of policy.refused) out.push(`- ${r}`);
  }
  if (policy.settingsProblems.length) {
    out.push('', '**Ignored in your settings:**');
    for (const p of policy.settingsProblems) out.push(`- ${p}`);
  }
  return out;
}
