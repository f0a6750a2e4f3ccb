import { BrowserRouter, Route, Routes } from 'react-router-dom';
import { SessionProvider } from './session/SessionContext';
import { LandingPage } from './pages/LandingPage';
import { SignInPage, SignUpPage } from './pages/AuthPages';
import { MeetingPage } from './pages/MeetingPage';
import { NotFoundPage } from './pages/NotFoundPage';
import { RecordingPage } from './pages/RecordingPage';
import { SkipLink } from './ui/SkipLink';

export function App() {
  return (
    <SessionProvider>
      <BrowserRouter>
        <SkipLink />
        <Routes>
          <Route path="/" element={<LandingPage />} />
          <Route path="/signin" element={<SignInPage />} />
          <Route path="/signup" element={<SignUpPage />} />
          <Route path="/m/:id" element={<MeetingPage />} />
          <Route path="/recordings/:id" element={<RecordingPage />} />
          <Route path="*" element={<NotFoundPage />} />
        </Routes>
      </BrowserRouter>
    </SessionProvider>
  );
}
