import { parseRoute } from '../routing';
import { Landing } from './Landing';
import { NotFound } from './NotFound';
import { RoomPage } from './RoomPage';

export function App() {
  const route = parseRoute(location.pathname);
  switch (route.page) {
    case 'landing':
      return <Landing />;
    case 'room':
      return <RoomPage roomId={route.roomId} />;
    case 'not_found':
      return <NotFound />;
  }
}
