// Conversations and their messages in the catalog.
import type { Attachment, ChatMessage, ChatStats, Conversation } from '../../shared/api.js';
import type { Db } from './db.js';

interface MessageRow {
  id: number;
  conversation_id: number;
  role: 'user' | 'assistant';
  text: string;
  attachments: string;
  model: string | null;
  stop_reason: ChatMessage['stopReason'];
  stats: string | null;
  created_at: number;
}

const toMessage = (r: MessageRow): ChatMessage => ({
  id: r.id,
  conversationId: r.conversation_id,
  role: r.role,
  text: r.text,
  attachments: JSON.parse(r.attachments) as Attachment[],
  model: r.model,
  stopReason: r.stop_reason,
  stats: r.stats ? (JSON.parse(r.stats) as ChatStats) : null,
  createdAt: r.created_at,
});

export class ConversationStore {
  constructor(private readonly db: Db) {}

  list(): Conversation[] {
    const rows = this.db
      .prepare(
        `SELECT c.*, (SELECT COUNT(*) FROM messages m WHERE m.conversation_id = c.id) AS message_count
         FROM conversations c ORDER BY c.updated_at DESC, c.id DESC`,
      )
      .all() as { id: number; title: string; model: string | null; created_at: number; updated_at: number; message_count: number }[];
    return rows.map((r) => ({
      id: r.id,
      title: r.title,
      model: r.model,
      createdAt: r.created_at,
      updatedAt: r.updated_at,
      messageCount: r.message_count,
    }));
  }

  get(id: number): Conversation | undefined {
    return this.list().find((c) => c.id === id);
  }

  create(title: string): Conversation {
    const now = Date.now();
    const { lastInsertRowid } = this.db
      .prepare('INSERT INTO conversations (title, created_at, updated_at) VALUES (?, ?, ?)')
      .run(title, now, now);
    return this.get(Number(lastInsertRowid))!;
  }

  rename(id: number, title: string): void {
    this.db.prepare('UPDATE conversations SET title = ? WHERE id = ?').run(title, id);
  }

  messages(conversationId: number): ChatMessage[] {
    const rows = this.db
      .prepare('SELECT * FROM messages WHERE conversation_id = ? ORDER BY id')
      .all(conversationId) as MessageRow[];
    return rows.map(toMessage);
  }

  message(id: number): ChatMessage | undefined {
    const r = this.db.prepare('SELECT * FROM messages WHERE id = ?').get(id) as MessageRow | undefined;
    return r && toMessage(r);
  }

  addMessage(m: Omit<ChatMessage, 'id' | 'createdAt'>): ChatMessage {
    const now = Date.now();
    const id = this.db.transaction(() => {
      const { lastInsertRowid } = this.db
        .prepare(
          `INSERT INTO messages (conversation_id, role, text, attachments, model, stop_reason, stats, created_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
        )
        .run(m.conversationId, m.role, m.text, JSON.stringify(m.attachments), m.model, m.stopReason, m.stats && JSON.stringify(m.stats), now);
      this.db.prepare('UPDATE conversations SET updated_at = ?, model = COALESCE(?, model) WHERE id = ?').run(now, m.model, m.conversationId);
      return Number(lastInsertRowid);
    })();
    return this.message(id)!;
  }

  /** Saves an answer's final text (streamed answers are written once, when they end). */
  finishMessage(id: number, text: string, stopReason: ChatMessage['stopReason'], stats: ChatStats | null): ChatMessage {
    this.db.prepare('UPDATE messages SET text = ?, stop_reason = ?, stats = ? WHERE id = ?').run(text, stopReason, stats && JSON.stringify(stats), id);
    return this.message(id)!;
  }
}
