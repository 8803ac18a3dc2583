// The logged-in person as server state: one query, set by login, cleared by logout or a 401.
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { onSignedOut } from "../api/client";
import { currentSession, type Session } from "../api/session";

export const SESSION_KEY = ["session"] as const;

export function useSession() {
  const client = useQueryClient();
  useEffect(
    () =>
      onSignedOut(() => {
        client.setQueryData<Session | null>(SESSION_KEY, null);
      }),
    [client],
  );
  return useQuery({ queryKey: SESSION_KEY, queryFn: currentSession, staleTime: Infinity, retry: false });
}
