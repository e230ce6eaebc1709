/**
 * Chat history per workspace, in the workspace's own storage (`workspaceState`), so it survives a window reload
 * and stays out of the repository. Read back through the protocol's zod schema: a conversation that no longer
 * parses (written by another version, or damaged) is skipped and logged, never allowed to break the view.
 */
import type * as vscode from 'vscode';
import * as z from 'zod/mini';
import type { Logger } from '../../common/logger';
import { conversationSchema, type Conversation, type ConversationSummary } from '../../common/protocol/chatProtocol';

const KEY = 'hearth.chat.conversations.v1';
const CURRENT_KEY = 'hearth.chat.current.v1';
/** Oldest conversations beyond this are dropped: workspace storage is a small database, not an archive. */
const MAX_CONVERSATIONS = 100;

export class ConversationStore {
  private conversations: Conversation[];

  constructor(private readonly memento: vscode.Memento, private readonly logger: Logger) {
    const raw = memento.get<unknown>(KEY, []);
    const list = Array.isArray(raw) ? raw : [];
    this.conversations = list.flatMap((c, i) => {
      const parsed = conversationSchema.safeParse(c);
      if (parsed.success) return [parsed.data];
      this.logger.warn(`chat history: conversation ${i} could not be read and was skipped: ${z.prettifyError(parsed.error)}`);
      return [];
    });
    // An answer still streaming when the window closed was cut off by it.
    for (const c of this.conversations) for (const m of c.messages) if (m.status === 'streaming') m.status = 'cancelled';
  }

  /** Newest first. */
  summaries(): ConversationSummary[] {
    return [...this.conversations]
      .sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))
      .map((c) => ({ id: c.id, title: c.title, updatedAt: c.updatedAt, messages: c.messages.length }));
  }

  get(id: string): Conversation | undefined {
    return this.conversations.find((c) => c.id === id);
  }

  get currentId(): string | undefined {
    return this.memento.get<string>(CURRENT_KEY);
  }

  async setCurrent(id: string): Promise<void> {
    await this.memento.update(CURRENT_KEY, id);
  }

  /** Stores `conversation` (new or changed). */
  async save(conversation: Conversation): Promise<void> {
    const i = this.conversations.findIndex((c) => c.id === conversation.id);
    if (i >= 0) this.conversations[i] = conversation;
    else this.conversations.push(conversation);
    if (this.conversations.length > MAX_CONVERSATIONS) {
      this.conversations.sort((a, b) => a.updatedAt.localeCompare(b.updatedAt));
      this.conversations.splice(0, this.conversations.length - MAX_CONVERSATIONS);
    }
    await this.memento.update(KEY, this.conversations);
  }

  async delete(id: string): Promise<void> {
    this.conversations = this.conversations.filter((c) => c.id !== id);
    await this.memento.update(KEY, this.conversations);
  }
}

/** A new, empty conversation. */
export function newConversation(id: string, now: Date): Conversation {
  const t = now.toISOString();
  return { id, title: 'New conversation', createdAt: t, updatedAt: t, messages: [] };
}

/** A title from the first question: its first line, shortened. */
export function titleFrom(question: string): string {
  const line = question.trim().split('\n')[0]!.replace(/\s+/g, ' ');
  return line.length > 60 ? `${line.slice(0, 57)}…` : line || 'New conversation';
}
