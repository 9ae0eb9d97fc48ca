create users id,email,locale
