import type { ComponentChildren } from 'preact';

/** The page frame: a banner with the product name (and, in a room, the connection status) and main. */
export function Layout({ children, status }: { children: ComponentChildren; status?: ComponentChildren }) {
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <div class="container header-row">
          <a class="brand" href="/">
            Colloquy
          </a>
          {status}
        </div>
      </header>
      <main id="main" class="container" tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
