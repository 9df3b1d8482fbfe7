import { useEffect, useMemo, useState } from 'preact/hooks';
import { Connection, type ConnectionSnapshot } from '../connection';
import { deviceStore, sessionStore } from '../storage';

/** One Connection per room page, kept for the page's life; the view re-renders on each change. */
export function useConnection(roomId: string): [Connection, ConnectionSnapshot] {
  const connection = useMemo(() => new Connection({ roomId, storage: deviceStore(), tabStorage: sessionStore() }), [roomId]);
  const [snapshot, setSnapshot] = useState(() => connection.getSnapshot());
  useEffect(() => {
    setSnapshot(connection.getSnapshot());
    const off = connection.subscribe(() => setSnapshot(connection.getSnapshot()));
    return () => {
      off();
      connection.dispose();
    };
  }, [connection]);
  return [connection, snapshot];
}
