import { Link } from 'react-router-dom';
import { TopBar } from '../ui/TopBar';

export function NotFoundPage() {
  return (
    <div className="page">
      <TopBar />
      <main className="narrow">
        <div className="card">
          <h2>Page not found</h2>
          <p>
            <Link to="/">Back to Baton</Link>
          </p>
        </div>
      </main>
    </div>
  );
}
