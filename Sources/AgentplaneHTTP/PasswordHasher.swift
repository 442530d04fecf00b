import HummingbirdBcrypt
import NIOPosix

/// bcrypt, off the cooperative thread pool (one hash costs tens to hundreds of milliseconds).
package struct PasswordHasher: Sendable {
    /// bcrypt cost (log2 rounds): 12 in production; tests may lower it.
    package var cost: UInt8

    /// A hash for a bcrypt `cost` from 4 to 31.
    package init(cost: UInt8 = 12) {
        self.cost = cost
    }

    /// The bcrypt hash of `password`.
    package func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive { Bcrypt.hash(password, cost: cost) }
    }

    /// Whether `password` matches `hash`. Without a hash (an unknown email) it spends the same time
    /// hashing and answers false, so the answer does not reveal which emails exist.
    package func verify(_ password: String, hash: String?) async throws -> Bool {
        let cost = self.cost
        return try await NIOThreadPool.singleton.runIfActive {
            guard let hash else {
                _ = Bcrypt.hash(password, cost: cost)
                return false
            }
            return Bcrypt.verify(password, hash: hash)
        }
    }
}
