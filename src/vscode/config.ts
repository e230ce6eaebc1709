import * as vscode from 'vscode';
import { Settings, type SettingSpec } from '../common/settings';

/** Reads a setting declared in `common/settings`, falling back to its declared default. */
export function getSetting<T>(spec: SettingSpec<T>, scope?: vscode.ConfigurationScope): T {
  const dot = spec.key.indexOf('.');
  return vscode.workspace.getConfiguration(spec.key.slice(0, dot), scope).get<T>(spec.key.slice(dot + 1), spec.default);
}

/** Keys whose change needs the model reloaded. */
export const engineRestartKeys = Object.values(Settings)
  .filter((s: SettingSpec<unknown>) => s.requiresEngineRestart)
  .map((s) => s.key);
