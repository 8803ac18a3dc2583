// Log in with email and password; the server sets the session cookie.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { ApiError, describe } from "../api/problem";
import { logIn, type Credentials, type Session } from "../api/session";
import { SESSION_KEY } from "../session/useSession";

export function loginError(error: unknown): string {
  if (error instanceof ApiError && error.status === 401) {
    return "Wrong email or password. Check both and try again.";
  }
  if (error instanceof ApiError && error.status === 429) {
    const wait = error.retryAfter ? ` in ${error.retryAfter} seconds` : " later";
    return `Too many attempts. Try again${wait}.`;
  }
  return describe(error);
}

export function LoginPage({ login = logIn }: { login?: (c: Credentials) => Promise<Session> }) {
  const client = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const mutation = useMutation({
    mutationFn: login,
    onSuccess: (session) => client.setQueryData(SESSION_KEY, session),
  });

  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate({ email: email.trim(), password });
  };

  return (
    <main className="login">
      <form className="login__card" onSubmit={submit} aria-labelledby="login-title" noValidate>
        <div className="brand brand--large">
          <span className="brand__mark" aria-hidden="true">T</span>
          <span className="brand__name">Tidings</span>
        </div>
        <h1 id="login-title" className="login__title">Log in to the console</h1>
        <label className="field">
          <span className="field__label">Email</span>
          <input
            className="input"
            type="email"
            name="email"
            autoComplete="username"
            required
            value={email}
            onChange={(e) => setEmail(e.target.value)}
          />
        </label>
        <label className="field">
          <span className="field__label">Password</span>
          <input
            className="input"
            type="password"
            name="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {mutation.isError && (
          <p className="alert alert--error" role="alert">
            {loginError(mutation.error)}
          </p>
        )}
        <button className="button button--primary button--block" type="submit" disabled={mutation.isPending || !email || !password}>
          {mutation.isPending ? "Logging in…" : "Log in"}
        </button>
        <p className="login__hint">
          No account yet? An owner adds people with <code>tidings users add EMAIL --role editor</code>.
        </p>
      </form>
    </main>
  );
}
