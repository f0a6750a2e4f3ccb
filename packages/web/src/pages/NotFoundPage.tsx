import { Link } from 'react-router-dom';
import { useTranslation } from 'react-i18next';
import { TopBar } from '../ui/TopBar';

export function NotFoundPage() {
  const { t } = useTranslation();
  return (
    <div className="page">
      <TopBar />
      <main className="narrow">
        <div className="card">
          <h2>{t('notFound.title')}</h2>
          <p>
            <Link to="/">{t('join.back')}</Link>
          </p>
        </div>
      </main>
    </div>
  );
}
