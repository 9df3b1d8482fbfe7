import type { ComponentChildren } from 'preact';

/**
 * The page frame: a banner with the product name (in a room also its title, the connection
 * status and the room's header actions) and main; `wide` gives the room's three columns room.
 */
export function Layout({
  children,
  status,
  title,
  wide = false,
}: {
  children: ComponentChildren;
  status?: ComponentChildren;
  title?: ComponentChildren;
  wide?: boolean;
}) {
  const container = wide ? 'container wide' : 'container';
  return (
    <>
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="site-header">
        <div class={`${container} header-row`}>
          <a class="brand" href="/">
            Colloquy
          </a>
          {title}
          {status}
        </div>
      </header>
      <main id="main" class={container} tabIndex={-1}>
        {children}
      </main>
    </>
  );
}
