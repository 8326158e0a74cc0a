package io.peerlink.bridge.internal;

import io.peerlink.Registration;

import java.util.List;

/**
 * Where registrations outlive the process. The directory keeps its working set in memory (that
 * is what lookups read) and writes every change through to the store; at start it loads the store.
 */
public interface RegistrationStore extends AutoCloseable {

    /** @return every stored registration, expired ones included (the directory drops those) */
    List<Registration> load();

    /** @param registration stored, replacing one at the same location */
    void put(Registration registration);

    /** @param location the registration to delete; no-op if absent */
    void delete(String location);

    @Override
    void close();

    /** The default: nothing survives the process. */
    final class InMemory implements RegistrationStore {
        @Override
        public List<Registration> load() {
            return List.of();
        }

        @Override
        public void put(Registration registration) {
            // memory only: the directory's own map is the store
        }

        @Override
        public void delete(String location) {
            // memory only
        }

        @Override
        public void close() {
            // nothing held
        }
    }
}
