import { useEffect } from 'preact/hooks';
import { Layout } from './Layout';

export function NotFound() {
  useEffect(() => {
    document.title = 'Page not found · Colloquy';
  }, []);
  return (
    <Layout>
      <h1>Page not found</h1>
      <p>There is nothing at this address.</p>
      <p>
        <a href="/">Go to the Colloquy start page</a>
      </p>
    </Layout>
  );
}
