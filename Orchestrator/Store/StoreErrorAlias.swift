package import Database

/// The store's errors are the database layer's: one type, whichever module reports it.
package typealias StoreError = DatabaseError
