use std::io::Read;

use super::*;

fn temp_root() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jc-storage-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_directory_means_its_files_in_name_order() {
    let root = temp_root();
    let storage = Storage::local(&root.join("store")).unwrap();
    for name in [
        "b/data/2.csv",
        "b/data/10.csv",
        "b/data/sub/1.csv",
        "b/one.csv",
    ] {
        storage
            .put(&ObjectPath::parse(name).unwrap(), b"x\n".to_vec())
            .await
            .unwrap();
    }
    let files = storage
        .resolve(&ObjectPath::parse("b/data").unwrap())
        .await
        .unwrap();
    let names: Vec<&str> = files.iter().map(ObjectPath::as_str).collect();
    assert_eq!(names, ["b/data/10.csv", "b/data/2.csv", "b/data/sub/1.csv"]);
    let one = storage
        .resolve(&ObjectPath::parse("b/one.csv").unwrap())
        .await
        .unwrap();
    assert_eq!(one.len(), 1);
    let missing = storage
        .resolve(&ObjectPath::parse("b/nothing").unwrap())
        .await;
    assert!(matches!(missing, Err(StorageError::NotFound(_))));
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn links_out_of_the_root_are_refused() {
    let root = temp_root();
    std::fs::write(root.join("secret.txt"), "secret").unwrap();
    let storage = Storage::local(&root.join("store")).unwrap();
    std::fs::create_dir_all(root.join("store/b")).unwrap();
    std::os::unix::fs::symlink(root.join("secret.txt"), root.join("store/b/link.csv")).unwrap();
    std::os::unix::fs::symlink(&root, root.join("store/b/up")).unwrap();
    for path in ["b/link.csv", "b/up/secret.txt"] {
        let path = ObjectPath::parse(path).unwrap();
        assert!(
            matches!(storage.resolve(&path).await, Err(StorageError::BadPath(_))),
            "{path}"
        );
        assert!(
            matches!(storage.reader(&path).await, Err(StorageError::BadPath(_))),
            "{path}"
        );
        assert!(
            matches!(
                storage.put(&path, b"x".to_vec()).await,
                Err(StorageError::BadPath(_))
            ),
            "{path}"
        );
    }
    assert_eq!(
        std::fs::read_to_string(root.join("secret.txt")).unwrap(),
        "secret"
    );
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_stream_through_a_blocking_reader_and_upload_from_files() {
    let root = temp_root();
    let storage = Storage::local(&root.join("store")).unwrap();
    let source = root.join("big.csv");
    let body: String = (0..50_000)
        .map(|i| format!("v{i},user,name {i}\n"))
        .collect();
    std::fs::write(&source, &body).unwrap();
    let path = ObjectPath::parse("b/in/big.csv").unwrap();
    storage.upload(&source, &path).await.unwrap();
    let mut reader = storage.reader(&path).await.unwrap();
    let read = tokio::task::spawn_blocking(move || {
        let mut text = String::new();
        reader.read_to_string(&mut text).unwrap();
        text
    })
    .await
    .unwrap();
    assert_eq!(read, body);
    std::fs::remove_dir_all(root).unwrap();
}

#[tokio::test]
async fn delete_removes_an_object_and_ignores_a_missing_one() {
    let root = temp_root();
    let storage = Storage::local(&root).unwrap();
    let path = ObjectPath::parse("b/logs/job/a.log").unwrap();
    storage.put(&path, b"line 1: bad\n".to_vec()).await.unwrap();
    assert!(root.join("b/logs/job/a.log").exists());
    storage.delete(&path).await.unwrap();
    assert!(!root.join("b/logs/job/a.log").exists());
    storage.delete(&path).await.unwrap();
}

#[tokio::test]
async fn permanent_failures_are_classified_and_name_the_path() {
    let root = temp_root();
    let storage = Storage::local(&root.join("store")).unwrap();
    let file = ObjectPath::parse("b/a.csv").unwrap();
    storage.put(&file, b"x\n".to_vec()).await.unwrap();
    let under_file = ObjectPath::parse("b/a.csv/x").unwrap();
    let long = ObjectPath::parse(&format!("b/{}", "n".repeat(300))).unwrap();
    let read = storage.resolve(&under_file).await.unwrap_err();
    assert!(
        matches!(&read, StorageError::NotADirectory(p) if p == "b/a.csv/x"),
        "{read:?}"
    );
    let write = storage.put(&under_file, b"y".to_vec()).await.unwrap_err();
    assert!(matches!(write, StorageError::NotADirectory(_)), "{write:?}");
    let read = storage.resolve(&long).await.unwrap_err();
    assert!(matches!(read, StorageError::NameTooLong(_)), "{read:?}");
    let write = storage.put(&long, b"y".to_vec()).await.unwrap_err();
    assert!(matches!(write, StorageError::NameTooLong(_)), "{write:?}");
    for err in [read, write] {
        assert!(!err.is_transient());
    }
    std::fs::remove_dir_all(root).unwrap();
}
