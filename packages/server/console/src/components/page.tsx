import type { ComponentChildren } from 'preact';

/** A page's heading (focused on arrival, so it takes tabIndex -1) and its intro. */
export function PageHeader({ title, children, actions }: { title: string; children?: ComponentChildren; actions?: ComponentChildren }) {
  return (
    <div class="page-header">
      <div>
        <h1 tabIndex={-1}>{title}</h1>
        {children ? <p class="intro">{children}</p> : null}
      </div>
      {actions ? <div class="actions">{actions}</div> : null}
    </div>
  );
}
