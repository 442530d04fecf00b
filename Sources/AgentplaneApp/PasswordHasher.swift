import Dispatch
import HummingbirdBcrypt

/// bcrypt, off the cooperative thread pool (one hash costs tens to hundreds of milliseconds).
public struct PasswordHasher: PasswordHashing {
    /// bcrypt cost (log2 rounds): 12 in production; tests may lower it.
    public var cost: UInt8

    /// A hash for a bcrypt `cost` from 4 to 31.
    public init(cost: UInt8 = 12) {
        self.cost = cost
    }

    public func hash(_ password: String) async throws -> String {
        let cost = self.cost
        return await Self.offPool { Bcrypt.hash(password, cost: cost) }
    }

    /// Without a hash (an unknown email) it spends the same time hashing and answers false, so the
    /// answer does not reveal which emails exist.
    public func verify(_ password: String, hash: String?) async throws -> Bool {
        let cost = self.cost
        return await Self.offPool {
            guard let hash else {
                _ = Bcrypt.hash(password, cost: cost)
                return false
            }
            return Bcrypt.verify(password, hash: hash)
        }
    }

    private static func offPool<T: Sendable>(_ work: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: work()) }
        }
    }
}
